#!/usr/bin/env bash
# End-to-end benchmark run (see bench/e2e/PROTOCOL.md): every workload in PyTorch "at its best" and "out of
# the box", at 2 and 1 threads, plus Ember's build/bench/e2e/ember_e2e and LibTorch's (C++)
# build/bench/e2e/libtorch_e2e when they have been built (LibTorch in the "best" environment, for the
# workloads its --list names), then bench/RESULTS.md via report.py.
#   bench/e2e/run_e2e.sh [--threads "2 1"] [--reps R] [--workload a,b] [--tiny] [--out results.jsonl]
#                        [--omp-wait-policy passive|active|""]
# --omp-wait-policy: OMP_WAIT_POLICY for PyTorch best (Python and C++) and Ember (default passive: on this
# shared 2-core machine, spinning OpenMP workers cost both libraries 5-70x at 2 threads; "" leaves it unset).
# --tiny: every workload for a couple of steps (a smoke test); the report then goes to the build dir
# instead of bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
threads_list="2 1"
reps=5
tiny=0
workloads=all
build_dir="${EMBER_BUILD_DIR:-build}"
out=""
wait_policy=passive
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads_list="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --workload) workloads="$2"; shift 2 ;;
    --tiny) tiny=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --omp-wait-policy) wait_policy="$2"; shift 2 ;;
    *) echo "run_e2e.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
python="${PYTHON:-/usr/bin/python3}"
mkdir -p "$build_dir/bench/e2e"
[ -n "$out" ] || out="$build_dir/bench/e2e/results.jsonl"
: >"$out"
report="bench/RESULTS.md"
extra=()
if [ "$tiny" = 1 ]; then
  extra=(--tiny)
  report="$build_dir/bench/e2e/RESULTS-tiny.md"
fi
if [ "$workloads" = all ]; then
  workloads=$("$python" bench/e2e/torch_e2e.py --list | paste -sd, -)
fi
ember="$build_dir/bench/e2e/ember_e2e"
[ -x "$ember" ] || echo "run_e2e: $ember not built, no Ember side" >&2
# LibTorch C++ (built only with libtorch-dev) runs the workloads its --list names, as ",a,b,".
libtorch="$build_dir/bench/e2e/libtorch_e2e"
libtorch_list=""
if [ -x "$libtorch" ] && lt_names=$("$libtorch" --list); then
  libtorch_list=",$(paste -sd, - <<<"$lt_names"),"
else
  echo "run_e2e: $libtorch not built or not runnable (needs libtorch-dev), no LibTorch side" >&2
fi

# PyTorch at its best (torch_e2e.py and libtorch_e2e alike): OpenBLAS single-threaded under torch's own
# threads, glibc malloc kept from returning memory to the OS on every step, OpenBLAS free to pick its kernels
# for this CPU.
best_env=(env -u OPENBLAS_CORETYPE -u OMP_NUM_THREADS -u OMP_WAIT_POLICY -u MKL_NUM_THREADS OPENBLAS_NUM_THREADS=1
  GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296)
# Out of the box: nothing set.
default_env=(env -u OMP_WAIT_POLICY -u OPENBLAS_NUM_THREADS -u GLIBC_TUNABLES -u OMP_NUM_THREADS -u MKL_NUM_THREADS)
ember_env=(env -u OMP_NUM_THREADS -u EMBER_NUM_THREADS -u OMP_WAIT_POLICY)
if [ -n "$wait_policy" ]; then
  best_env+=(OMP_WAIT_POLICY="$wait_policy")
  ember_env+=(OMP_WAIT_POLICY="$wait_policy")
fi

loadavg() { printf '{"workload": "loadavg", "when": "%s", "loadavg": "%s"}\n' "$1" "$(cut -d' ' -f1-3 /proc/loadavg)"; }
loadavg start >>"$out"
for t in $threads_list; do
  "${best_env[@]}" "$python" bench/e2e/torch_e2e.py --sgemm-peak --threads "$t" --tag best "${extra[@]}" >>"$out"
  IFS=, read -r -a names <<<"$workloads"
  for w in "${names[@]}"; do
    echo "run_e2e: $w, $t thread(s)" >&2
    # One process per workload and side, so that peak RSS belongs to that workload alone.
    "${best_env[@]}" "$python" bench/e2e/torch_e2e.py --workload "$w" --threads "$t" --reps "$reps" \
      --tag best "${extra[@]}" >>"$out"
    "${default_env[@]}" "$python" bench/e2e/torch_e2e.py --workload "$w" --threads "$t" --reps "$reps" \
      --tag default "${extra[@]}" >>"$out"
    if [ -x "$ember" ]; then
      "${ember_env[@]}" "$ember" --workload "$w" --threads "$t" --reps "$reps" --tag ember "${extra[@]}" >>"$out" ||
        echo "run_e2e: ember_e2e failed on $w ($t threads)" >&2
    fi
    if [[ "$libtorch_list" == *",$w,"* ]]; then
      "${best_env[@]}" "$libtorch" --workload "$w" --threads "$t" --reps "$reps" --tag best "${extra[@]}" >>"$out" ||
        echo "run_e2e: libtorch_e2e failed on $w ($t threads)" >&2
    fi
  done
done
loadavg end >>"$out"
"$python" bench/e2e/report.py "$out" >"$report"
echo "run_e2e: results in $out, report in $report" >&2
