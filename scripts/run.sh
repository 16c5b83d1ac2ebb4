#!/usr/bin/env bash
# The main job, from a fresh machine: installs what is needed, builds, and trains the default model on real
# data with progress and a final score.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
if [ -f scripts/install_data.sh ]; then bash scripts/install_data.sh; fi
bash scripts/build.sh
if [ -x build/tools/ember ]; then
  exec build/tools/ember train "$@"
else
  exec build/examples/xor "$@"
fi
