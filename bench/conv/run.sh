#!/bin/bash
# Ember vs PyTorch for the conv benchmarks (bench/compare.sh). Usage: bench/conv/run.sh [build dir]
exec bash "$(dirname "$0")/../compare.sh" conv "$@"
