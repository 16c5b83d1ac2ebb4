#!/usr/bin/env bash
# Runs every micro-benchmark in one go (Ember + oneDNN + OpenBLAS, LibTorch C++, PyTorch Python) with the same
# thread count and prints one table with Ember/PyTorch ratios.
#   bench/micro/run_micro.sh [--threads N] [--quick] [--reps R] [--cpu-time]
# --quick: every benchmark once at a tiny size (a smoke test for CI, seconds). Uses $EMBER_BUILD_DIR (default
# build/); builds the benchmark targets if they are missing. --cpu-time ranks by the calling thread's CPU time
# instead of wall-clock time: robust on a busy machine, meaningful only with --threads 1. Raw results are kept in $out_dir (printed).
set -euo pipefail
cd "$(dirname "$0")/../.."
threads=$(nproc)
quick=0
reps=3
cpu=()
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    --reps) reps="$2"; shift 2 ;;
    --cpu-time) cpu=(--cpu-time); shift ;;
    *) echo "run_micro.sh: unknown argument $1 (use --threads N, --quick, --reps R, --cpu-time)" >&2; exit 2 ;;
  esac
done
build_dir="${EMBER_BUILD_DIR:-build}"
python="${PYTHON:-/usr/bin/python3}"
if [ ! -x "$build_dir/bench/micro/micro_ember" ]; then
  if ! ninja -C "$build_dir" -t targets all 2>/dev/null | grep -q '^micro_ember:'; then
    echo "run_micro.sh: micro_ember is not configured in $build_dir (Google Benchmark missing?), skipped"
    exit 0
  fi
  ninja -C "$build_dir" -j "$(nproc)" micro_ember >/dev/null
fi
if [ ! -x "$build_dir/bench/micro/micro_torch" ] && ninja -C "$build_dir" -t targets all 2>/dev/null | grep -q '^micro_torch:'; then
  ninja -C "$build_dir" -j "$(nproc)" micro_torch >/dev/null
fi

# Every library gets the same number of threads.
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" EMBER_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads"
out_dir=$(mktemp -d "${TMPDIR:-/tmp}/ember_micro.XXXXXX")
if [ "$quick" = 1 ]; then
  gb_args=(--quick)
  py_args=(--quick)
else
  gb_args=(--benchmark_repetitions="$reps" --benchmark_min_time=0.3)
  py_args=(--reps "$reps" --min-time 0.3)
fi

echo "micro-benchmarks: $threads thread(s), $( [ "$quick" = 1 ] && echo quick || echo "$reps repetitions" ), results in $out_dir"
"$build_dir/bench/micro/micro_ember" --threads "$threads" "${gb_args[@]}" --benchmark_out="$out_dir/ember.json" \
  --benchmark_out_format=json >"$out_dir/ember.txt" 2>&1
files=("$out_dir/ember.json")
if [ -x "$build_dir/bench/micro/micro_torch" ]; then
  "$build_dir/bench/micro/micro_torch" --threads "$threads" "${gb_args[@]}" --benchmark_out="$out_dir/libtorch.json" \
    --benchmark_out_format=json >"$out_dir/libtorch.txt" 2>&1
  files+=("$out_dir/libtorch.json")
else
  echo "(micro_torch not built: LibTorch not found)"
fi
if "$python" -c "import torch" 2>/dev/null; then
  "$python" bench/micro/torch_micro.py --threads "$threads" "${py_args[@]}" ${cpu[@]+"${cpu[@]}"} >"$out_dir/pytorch.jsonl"
  files+=("$out_dir/pytorch.jsonl")
else
  echo "(python torch not available: PyTorch column skipped)"
fi
"$python" bench/micro/micro_report.py ${cpu[@]+"${cpu[@]}"} "${files[@]}"
