#!/usr/bin/env bash
# `make dev`: the service on http://127.0.0.1:${PORT:-9011}, against moto on ${MOTO_PORT:-5055}
# (or against AWS_ENDPOINT_URL when it is set), loaded with ${KICKSTART:-kickstart/demo.json};
# the outbox, every email and SMS sent and a live panel of the functions' metrics, on
# http://127.0.0.1:${OUTBOX_PORT:-9012}; the example app (examples/oidc-web-app), signing in with
# the hosted pages, on http://127.0.0.1:${EXAMPLE_PORT:-9013}.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh
source scripts/serve.sh

PORT=${PORT:-9011}
MOTO_PORT=${MOTO_PORT:-5055}
OUTBOX_PORT=${OUTBOX_PORT:-9012}
EXAMPLE_PORT=${EXAMPLE_PORT:-9013}
KICKSTART=${KICKSTART:-$ROOT/kickstart/demo.json}
export DIRECTORY_TABLE=${DIRECTORY_TABLE:-passwordless-directory}
export CODES_TABLE=${CODES_TABLE:-passwordless-codes}
export DIRECTORY_CACHE_SECONDS=${DIRECTORY_CACHE_SECONDS:-5}

pids=()
stop_all() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT TERM

ensure_venv
if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
  echo "starting moto on 127.0.0.1:$MOTO_PORT"
  setsid "$VENV/bin/python" scripts/moto_server.py "$MOTO_PORT" >/dev/null 2>&1 &
  pids+=($!)
  wait_for_port "$MOTO_PORT" moto "${pids[-1]}"
  use_local_aws "http://127.0.0.1:$MOTO_PORT"
  enforce_local_iam
  LOCAL_EMULATOR=1
else
  echo "using AWS endpoint $AWS_ENDPOINT_URL (no emulator started)"
fi

# The functions' output goes to a file too, which the outbox reads its metrics (EMF lines) from.
WATCH_LOG=${WATCH_LOG:-$TARGET_DIR/dev-functions.log}
mkdir -p "$(dirname "$WATCH_LOG")"
: >"$WATCH_LOG"
echo "starting the outbox on 127.0.0.1:$OUTBOX_PORT"
setsid "$VENV/bin/python" scripts/outbox.py "$OUTBOX_PORT" "$AWS_ENDPOINT_URL" "$WATCH_LOG" &
pids+=($!)
wait_for_port "$OUTBOX_PORT" outbox "${pids[-1]}"

# The SES identities the stack sends as (template.yaml's SenderIdentities): every sender domain
# of the kickstart unless SENDER_IDENTITIES names them; load refuses a sender outside them.
export SENDER_IDENTITIES=${SENDER_IDENTITIES:-$("$VENV/bin/python" scripts/local_iam.py sender-identities "$KICKSTART")}
cargo build --quiet --bin passwordless-admin
"$TARGET_DIR/debug/passwordless-admin" create-tables
# The kickstart names the service as http://127.0.0.1:9011 and the example app as
# http://127.0.0.1:9013: loaded with the ports served instead (issuer, baseURL, redirect URLs), so
# that the mailed links, the discovery document and the tokens' issuer name this very service.
LOADED_KICKSTART="$TARGET_DIR/dev-kickstart.json"
"$VENV/bin/python" scripts/kickstart_urls.py "$KICKSTART" "$LOADED_KICKSTART" \
  --service "http://127.0.0.1:$PORT" --example "http://127.0.0.1:$EXAMPLE_PORT"
"$TARGET_DIR/debug/passwordless-admin" load "$LOADED_KICKSTART"
if [ -n "${LOCAL_EMULATOR:-}" ]; then
  "$TARGET_DIR/debug/passwordless-admin" register-senders "$KICKSTART"
  export SES_CONFIGURATION_SET=$("$VENV/bin/python" scripts/local_iam.py configuration-set)
fi

echo "building and starting the functions on 127.0.0.1:$PORT"
serve_functions "$PORT" 4
pids+=("$WATCH_PID")
tail -n +1 -F "$WATCH_LOG" & # the functions' output, in this terminal as before
pids+=($!)

# The example app, for the application whose redirect URLs name it (the demo's "Demo web app").
EXAMPLE_ARGS=$("$VENV/bin/python" - "$LOADED_KICKSTART" "http://127.0.0.1:$EXAMPLE_PORT/callback" <<'PY'
import json, sys
k = json.load(open(sys.argv[1]))
app = next((a for a in k.get("applications", [])
            if sys.argv[2] in a.get("oauthConfiguration", {}).get("authorizedRedirectURLs", [])), None)
if app and app["oauthConfiguration"].get("clientSecret"):
    tenant = next(t for t in k["tenants"] if t["id"] == app["tenantId"])
    print(tenant["issuer"], app["id"], app["oauthConfiguration"]["clientSecret"])
PY
)
if [ -n "$EXAMPLE_ARGS" ]; then
  read -r EXAMPLE_ISSUER EXAMPLE_CLIENT EXAMPLE_SECRET <<<"$EXAMPLE_ARGS"
  echo "starting the example app on 127.0.0.1:$EXAMPLE_PORT"
  setsid "$VENV/bin/python" examples/oidc-web-app/app.py --issuer "$EXAMPLE_ISSUER" \
    --client-id "$EXAMPLE_CLIENT" --client-secret "$EXAMPLE_SECRET" --port "$EXAMPLE_PORT" &
  pids+=($!)
  wait_for_port "$EXAMPLE_PORT" "the example app" "${pids[-1]}"
else
  echo "no application of $KICKSTART registers http://127.0.0.1:$EXAMPLE_PORT/callback: no example app"
fi

python3 - "$LOADED_KICKSTART" "$PORT" "$OUTBOX_PORT" "${EXAMPLE_ARGS:+$EXAMPLE_PORT}" <<'PY'
import json, sys
k = json.load(open(sys.argv[1]))
port, outbox_port, example_port = sys.argv[2], sys.argv[3], sys.argv[4]
key = next((a["key"] for a in k.get("apiKeys", []) if not a.get("permissions")), None)
app = next((a["id"] for a in k.get("applications", [])
            if a.get("passwordlessConfiguration", {}).get("enabled")), None)
user = next((u.get("email") or u.get("username") for u in k.get("users", [])
             if u.get("email") or u.get("username")), None)
print(f"""
Passwordless is serving every route of template.yaml on http://127.0.0.1:{port}
  (/api/passwordless/{{start,send,login}}, /api/jwt/..., /.well-known/..., /oauth2/...)
API key:        {key}
Application id: {app}
Outbox:         http://127.0.0.1:{outbox_port}/  (every email and SMS sent, newest first; live metrics)
""" + (f"""Example app:    http://127.0.0.1:{example_port}/  (an OpenID Connect app: "Sign in" goes through the hosted
                pages; the code or the link is in the outbox; sign in as {user})
""" if example_port else "") + f"""
Try:
  curl -i http://127.0.0.1:{port}/api/passwordless/start \\
    -H 'Authorization: {key}' -H 'Content-Type: application/json' \\
    -d '{{"applicationId": "{app}", "loginId": "{user}"}}'

Ctrl-C stops everything.""")
PY
wait "$WATCH_PID"
