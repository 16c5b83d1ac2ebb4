#!/bin/bash
# Ember vs PyTorch for the layers benchmarks (bench/compare.sh). Usage: bench/layers/run.sh [build dir]
exec bash "$(dirname "$0")/../compare.sh" layers "$@"
