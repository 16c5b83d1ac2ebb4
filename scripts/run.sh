#!/usr/bin/env bash
# The main job, from a fresh machine: installs what is needed, builds, and trains the default model on real
# data with progress and a final score.
set -euo pipefail
cd "$(dirname "$0")/.."
# libgomp's default active waiting collapses 2-thread runs whenever another process shares the cores (measured:
# 570 vs 3,500 samples/s for the seed CNN on a loaded machine); passive waiting costs little on an idle one.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
bash scripts/install_deps.sh
if [ -f scripts/install_data.sh ]; then bash scripts/install_data.sh; fi
bash scripts/build.sh
if [ -x build/tools/ember ]; then
  exec build/tools/ember train "$@"
else
  exec build/examples/xor "$@"
fi
