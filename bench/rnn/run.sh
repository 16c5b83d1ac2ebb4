#!/bin/bash
# Ember vs PyTorch for the recurrent benchmarks (bench/compare.sh), both sides on BENCH_THREADS threads
# (default 2). On a loaded machine per-step thread barriers dominate PyTorch's time at 2 threads;
# BENCH_THREADS=1 gives the load-robust comparison. Usage: [BENCH_THREADS=n] bench/rnn/run.sh [build dir]
export BENCH_THREADS="${BENCH_THREADS:-2}"
exec bash "$(dirname "$0")/../compare.sh" rnn "$@"
