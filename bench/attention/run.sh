#!/bin/bash
# Ember vs PyTorch for the attention benchmarks (bench/compare.sh). Usage: bench/attention/run.sh [build dir]
exec bash "$(dirname "$0")/../compare.sh" attention "$@"
