#!/usr/bin/env bash
# Entry point kept at bench/run_micro.sh for scripts/test.sh: see bench/micro/run_micro.sh.
exec "$(dirname "$0")/micro/run_micro.sh" "$@"
