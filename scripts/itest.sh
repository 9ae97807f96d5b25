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

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all EXIT

ensure_venv
MOTO_PORT=$(free_port)
setsid "$VENV/bin/python" scripts/moto_server.py "$MOTO_PORT" >/dev/null 2>&1 &
pids+=($!)
wait_for_port "$MOTO_PORT" moto "${pids[-1]}"
use_local_aws "http://127.0.0.1:$MOTO_PORT"
enforce_local_iam
export LOCAL_IAM_PYTHON="$VENV/bin/python"

if [ $# -eq 0 ]; then set -- --workspace; fi
# Arguments after `--` go to the test binaries; four threads keep the single-threaded moto responsive.
if printf '%s\n' "$@" | grep -qx -- '--'; then
  cargo test "$@" --test-threads 4
else
  cargo test "$@" -- --test-threads 4
fi
