#!/usr/bin/env bash
# `make test`: every check. Formatting, lints, unit and integration tests against a moto started
# here on a free port, then the black-box tests with FusionAuth's Python client against the
# functions served by `cargo lambda watch`, and the relying-party tests (authlib, openid-client,
# Chromium, the example app) against the same service.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh
source scripts/serve.sh
source scripts/template_checks.sh

stop_on_exit

ensure_venv
ensure_node_modules

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
check_template

echo "== moto, IAM enforced: the admin user for the harness, one role per function (template.yaml)"
start_enforced_moto

echo "== unit and integration tests"
# moto is served single-threaded (see scripts/moto_server.py): four test threads keep it responsive.
cargo test --workspace -- --test-threads 4

echo "== black-box tests: FusionAuth's Python client against cargo lambda watch"
export DIRECTORY_TABLE="blackbox-directory" CODES_TABLE="blackbox-codes" DIRECTORY_CACHE_SECONDS=0 RUST_LOG=info
# The stack sends as every sender domain of the files it serves (template.yaml's SenderIdentities):
# the example's, the ES256 tenant's, the three tenants of three domains and the OpenID Connect one.
KICKSTARTS=(tests/fixtures/kickstart.example.json tests/fixtures/kickstart.es256.json
  tests/fixtures/kickstart.three-senders.json tests/fixtures/kickstart.oidc.json)
export SENDER_IDENTITIES=$("$VENV/bin/python" scripts/local_iam.py sender-identities "${KICKSTARTS[@]}")
cargo build --quiet --bin passwordless-admin
"$TARGET_DIR/debug/passwordless-admin" create-tables
# The black-box suites all sign in as the example's few users, well over the 5 sends per user and
# minute of the example tenant: the stack gets the example with a send limit no suite reaches
# (the limit itself is tested by the integration tests, with the example as it is).
BLACKBOX_KICKSTART="$TARGET_DIR/blackbox-kickstart.json"
"$VENV/bin/python" - tests/fixtures/kickstart.example.json "$BLACKBOX_KICKSTART" <<'PY'
import json, sys
kickstart = json.load(open(sys.argv[1]))
for tenant in kickstart["tenants"]:
    limits = tenant.setdefault("rateLimitConfiguration", {})
    for name in ("sendPasswordless", "sendPasswordlessPhone"):
        limits[name] = {"enabled": True, "limit": 1000, "timePeriodInSeconds": 60}
json.dump(kickstart, open(sys.argv[2], "w"))
PY
"$TARGET_DIR/debug/passwordless-admin" load "$BLACKBOX_KICKSTART"
for kickstart in "${KICKSTARTS[@]:1:2}"; do
  "$TARGET_DIR/debug/passwordless-admin" load "$kickstart"
done
# The relying parties' tenant (tests/blackbox/test_oidc_*.py): its issuer and baseURL name the port
# the functions will be served on, and its redirect URLs the example app's, both chosen now.
PORT=$(free_port)
EXAMPLE_PORT=$(free_port)
while [ "$EXAMPLE_PORT" = "$PORT" ]; do EXAMPLE_PORT=$(free_port); done
OIDC_KICKSTART="$TARGET_DIR/blackbox-oidc-kickstart.json"
"$VENV/bin/python" scripts/kickstart_urls.py tests/fixtures/kickstart.oidc.json "$OIDC_KICKSTART" \
  --service "http://127.0.0.1:$PORT" --example "http://127.0.0.1:$EXAMPLE_PORT"
"$TARGET_DIR/debug/passwordless-admin" load "$OIDC_KICKSTART"
for kickstart in "${KICKSTARTS[@]}"; do
  "$TARGET_DIR/debug/passwordless-admin" register-senders "$kickstart"
done
# The SES configuration set send mails with, as template.yaml's SesConfigurationSet.
export SES_CONFIGURATION_SET=$("$VENV/bin/python" scripts/local_iam.py configuration-set)
WATCH_LOG=$TARGET_DIR/blackbox-functions.log
serve_functions "$PORT" 4
pids+=("$WATCH_PID")
BASE_URL="http://127.0.0.1:$PORT" FUNCTIONS_LOG="$WATCH_LOG" MOTO_URL="$AWS_ENDPOINT_URL" \
  OIDC_KICKSTART="$OIDC_KICKSTART" EXAMPLE_PORT="$EXAMPLE_PORT" \
  "$VENV/bin/python" -m pytest -q -rs tests/blackbox
scripts/schemathesis.sh "http://127.0.0.1:$PORT" # openapi.yaml against the same service (README, OpenAPI)
