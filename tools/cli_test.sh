#!/usr/bin/env bash
# End-to-end test of the `ember` command (run by CTest): usage, config errors, a short real training run on
# Fashion-MNIST, evaluate/predict/summary on the saved model, and a corrupt model file. Fails on the first
# unexpected result, printing what it saw.
set -uo pipefail
ember=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

expect_error() {  # expect_error "<substring>" args...
  local want=$1; shift
  local out rc
  out=$("$ember" "$@" 2>&1); rc=$?
  [ $rc -ne 0 ] || fail "'ember $*' exited 0; expected an error containing: $want"
  grep -qF -- "$want" <<<"$out" || fail "'ember $*' printed: $out -- expected: $want"
  echo "ok: ember $* -> error mentions '$want'"
}

"$ember" --help >/dev/null || fail "--help"
for c in train evaluate predict summary; do "$ember" $c --help >/dev/null || fail "$c --help"; done
echo "ok: --help for every command"

expect_error "required" evaluate
printf '{"model": {"input_shape": [1,28,28], "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 10}]}, "epochs": "ten"}' >"$work/bad_epochs.json"
expect_error "field 'epochs': expected an integer >= 1, got \"ten\"" train "$work/bad_epochs.json"
printf '{"model": {"input_shape": [1,28,28], "layers": [{"type": "Flatten"}]}, "epohcs": 3}' >"$work/typo.json"
expect_error "unknown field 'epohcs'" train "$work/typo.json"
printf '{"model": {"input_shape": [1,28,28], "layers": [{"type": "Dense", "units": -3}]}}' >"$work/bad_units.json"
expect_error "units" train "$work/bad_units.json"
printf '{"model": {"input_shape": [1,28,28], "layers": [{"type": "Flatten"}]}, "data": {"dataset": "cifar"}}' >"$work/bad_data.json"
expect_error "field 'data.dataset'" train "$work/bad_data.json"
printf '{"model": ' >"$work/truncated.json"
expect_error "not valid JSON" train "$work/truncated.json"

# A short real run: the seed CNN on 4000 Fashion-MNIST images for one epoch.
out=$("$ember" train "$src/configs/seed_cnn.json" --epochs 1 --limit 4000 --out "$work/run" --quiet 2>&1) ||
  fail "train exited non-zero: $out"
echo "$out" | tail -4
acc=$(sed -n 's/^TEST ACCURACY: \([0-9.]*\)%$/\1/p' <<<"$out")
[ -n "$acc" ] || fail "no 'TEST ACCURACY' line"
awk -v a="$acc" 'BEGIN { exit !(a > 60) }' || fail "test accuracy $acc% is not well above chance (10%)"
echo "ok: one short epoch reaches $acc% test accuracy"
for f in model.safetensors config.json history.csv history.jsonl; do
  [ -s "$work/run/$f" ] || fail "train did not write $f"
done

eval_out=$("$ember" evaluate "$work/run/model.safetensors" 2>&1) || fail "evaluate: $eval_out"
eval_acc=$(sed -n 's/^  accuracy: \([0-9.]*\)$/\1/p' <<<"$eval_out")
awk -v a="$acc" -v e="$eval_acc" 'BEGIN { d = a - 100 * e; exit !(d < 0.011 && d > -0.011) }' ||
  fail "evaluate gives accuracy $eval_acc, training reported $acc%"
echo "ok: evaluate on the saved model reproduces $eval_acc"

pred=$("$ember" predict "$work/run/model.safetensors" fashion_mnist:0 2>&1) || fail "predict: $pred"
grep -q "^class: " <<<"$pred" || fail "predict printed: $pred"
echo "ok: predict -> $(grep '^class: ' <<<"$pred")"
expect_error "out of range" predict "$work/run/model.safetensors" fashion_mnist:99999

sum=$("$ember" summary "$src/configs/seed_cnn.json" 2>&1) || fail "summary: $sum"
grep -qE "693,?962" <<<"$sum" || fail "summary does not report 693,962 parameters: $sum"
echo "ok: summary counts 693,962 parameters"

head -c 300 "$work/run/model.safetensors" >"$work/cut.safetensors"
expect_error "cut.safetensors" evaluate "$work/cut.safetensors"
echo "all cli checks passed"
