#!/usr/bin/env bash
# `make itest`: the unit and integration tests alone, against a moto of their own (IAM enforced,
# as in `make test`), without fmt, clippy, the template checks or the black-box suites: the loop
# while working on one module. Arguments go to `cargo test` after the package selection, e.g.
#   scripts/itest.sh -p integration-tests --test api refresh_tokens
#   scripts/itest.sh -p passwordless
# With no arguments: the whole workspace.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh

stop_on_exit

ensure_venv
start_enforced_moto

if [ $# -eq 0 ]; then set -- --workspace; fi
# Arguments after `--` go to the test binaries; four threads keep the single-threaded moto responsive.
if printf '%s\n' "$@" | grep -qx -- '--'; then
  cargo test "$@" --test-threads 4
else
  cargo test "$@" -- --test-threads 4
fi
