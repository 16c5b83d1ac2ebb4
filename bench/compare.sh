#!/bin/bash
# Shared runner of the per-family benchmarks: runs bench/<family>/bench_<family> (Ember, Google Benchmark)
# and bench/<family>/torch_<family>.py (PyTorch 1.13, 2 threads), prints ms and Ember/PyTorch ratios
# (below 1 = Ember faster). Usage: [BENCH_THREADS=n] bench/compare.sh FAMILY [build dir, default build]
# BENCH_THREADS, when set, is exported to both sides (the Ember side also gets it as OMP_NUM_THREADS; the
# torch script reads it if it supports it, as bench/rnn/torch_rnn.py does).
set -euo pipefail
family="$1"
here="$(cd "$(dirname "$0")" && pwd)"
build="${2:-$here/../build}"
exe="$build/bench/$family/bench_$family"
[ -x "$exe" ] || { echo "$family/run.sh: $exe not built (ninja -C $build bench_$family)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if [ -n "${BENCH_THREADS:-}" ]; then export BENCH_THREADS OMP_NUM_THREADS="$BENCH_THREADS"; fi
"$exe" --benchmark_format=json --benchmark_min_time=1 >"$tmp/ember.json"
/usr/bin/python3 "$here/$family/torch_$family.py" >"$tmp/torch.json"
/usr/bin/python3 - "$tmp/ember.json" "$tmp/torch.json" <<'PY'
import json, sys
ember = {b["name"].replace("/real_time", ""): b for b in json.load(open(sys.argv[1]))["benchmarks"]}
torch = json.load(open(sys.argv[2]))
print(f"{'benchmark':28s} {'ember ms':>10s} {'torch ms':>10s} {'ember/torch':>12s}")
for name, t in torch.items():
    b = ember.get(name)
    if b is None or b.get("error_occurred"):
        print(f"{name:28s} {'ERROR' if b else 'missing':>10s} {t:10.3f}")
        continue
    ms = b["real_time"]
    print(f"{name:28s} {ms:10.3f} {t:10.3f} {ms / t:12.2f}")
PY
