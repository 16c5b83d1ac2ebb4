#!/usr/bin/env bash
# Installs, builds and runs every test: the unit tests (Release), the same tests under AddressSanitizer +
# UndefinedBehaviorSanitizer (with LeakSanitizer), the install + find_package(ember) consumer check, and one
# tiny run of the benchmarks. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
# libgomp's default active waiting collapses 2-thread runs whenever another process shares the cores (measured:
# 570 vs 3,500 samples/s for the seed CNN on a loaded machine); passive waiting costs little on an idle one.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
root=$(pwd)
jobs=$(nproc)
step() { printf '\n=== %s\n' "$*"; }

step "dependencies"
bash scripts/install_deps.sh
if [ -f scripts/install_data.sh ]; then bash scripts/install_data.sh; fi

step "build (Release)"
bash scripts/build.sh

step "unit tests (Release)"
ctest --test-dir build -j "$jobs" --output-on-failure --timeout 600

step "unit tests under ASan + UBSan"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEMBER_SANITIZE=ON -DEMBER_BUILD_BENCH=OFF \
  -DEMBER_BUILD_EXAMPLES=OFF -DCMAKE_CXX_FLAGS="-O1" >/dev/null
ninja -C build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -j "$jobs" --output-on-failure --timeout 1200

step "install + find_package(ember) consumer"
rm -rf build/install-check
cmake --install build --prefix build/install-check/prefix >/dev/null
cmake -S tests/consumer -B build/install-check/consumer -G Ninja -DCMAKE_PREFIX_PATH="$root/build/install-check/prefix" >/dev/null
ninja -C build/install-check/consumer
build/install-check/consumer/consumer

if [ -x bench/run_micro.sh ]; then
  step "benchmarks build and run (tiny)"
  bash bench/run_micro.sh --quick
fi

if [ -x build/bench/e2e/ember_e2e ]; then
  step "end-to-end benchmark smoke run (tiny)"
  build/bench/e2e/ember_e2e --workload all --tiny --threads 2 --tag smoke >/dev/null
fi
if [ -x build/bench/e2e/libtorch_e2e ]; then
  step "end-to-end benchmark smoke run, LibTorch side (tiny)"
  build/bench/e2e/libtorch_e2e --workload all --tiny --threads 2 --tag smoke >/dev/null
fi

step "all tests passed"
