#!/bin/bash
# Runs bench_rnn (Ember) and torch_rnn.py (PyTorch 1.13, 2 threads) and prints ms and Ember/PyTorch ratios
# (below 1 = Ember faster). Usage: [BENCH_THREADS=n] bench/rnn/run.sh [build dir, default build]
# Both sides use BENCH_THREADS threads (default 2). On a loaded machine per-step thread barriers dominate
# PyTorch's time at 2 threads; BENCH_THREADS=1 gives the load-robust comparison.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
exe="$build/bench/rnn/bench_rnn"
[ -x "$exe" ] || { echo "run.sh: $exe not built (ninja -C $build bench_rnn)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export BENCH_THREADS="${BENCH_THREADS:-2}"
OMP_NUM_THREADS="$BENCH_THREADS" "$exe" --benchmark_format=json --benchmark_min_time=1 >"$tmp/ember.json"
/usr/bin/python3 "$here/torch_rnn.py" >"$tmp/torch.json"
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
