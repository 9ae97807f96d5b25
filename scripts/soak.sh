#!/usr/bin/env bash
# `make soak`: sustained mixed load against the local service (moto + `cargo lambda watch`,
# concurrency 4, as `make dev` runs it) for ${DURATION:-300} s from ${WORKERS:-4} client threads,
# as fast as it answers. Fails on any 5xx, a lost or doubled login, an abandoned code not refused
# after expiry, or function memory that grows. Not part of `make test`.
# `scripts/soak.sh --enumeration` starts the same stack and runs scripts/enumeration_latency.py
# instead: the latency medians of the answers an attacker would compare.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh
source scripts/serve.sh

stop_on_exit

ensure_venv
start_enforced_moto

export DIRECTORY_TABLE="soak-directory" CODES_TABLE="soak-codes" DIRECTORY_CACHE_SECONDS=5
export RUST_LOG=warn TTL=${TTL:-20}
KICKSTART="$TARGET_DIR/soak-kickstart.json"
"$VENV/bin/python" scripts/soak.py --kickstart "$KICKSTART"
export SENDER_IDENTITIES=$("$VENV/bin/python" scripts/local_iam.py sender-identities "$KICKSTART")
cargo build --quiet --bin passwordless-admin
"$TARGET_DIR/debug/passwordless-admin" create-tables
"$TARGET_DIR/debug/passwordless-admin" load "$KICKSTART" >/dev/null
"$TARGET_DIR/debug/passwordless-admin" register-senders "$KICKSTART"

PORT=$(free_port)
WATCH_LOG="$TARGET_DIR/soak-functions.log"
serve_functions "$PORT" 4
pids+=("$WATCH_PID")
if [ "${1:-}" = "--enumeration" ]; then
  "$VENV/bin/python" scripts/enumeration_latency.py "http://127.0.0.1:$PORT"
  exit
fi
echo "soak: ${DURATION:-300} s against http://127.0.0.1:$PORT (moto on $MOTO_PORT)"
"$VENV/bin/python" scripts/soak.py "http://127.0.0.1:$PORT" "$AWS_ENDPOINT_URL" "$WATCH_PID"
