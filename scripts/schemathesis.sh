#!/usr/bin/env bash
# Checks openapi.yaml against the running service: validates the document, then runs schemathesis
# (settings and the reasons for them in scripts/schemathesis.toml) at BASE_URL. Exits non-zero on
# any finding. `make test` calls it with the black-box service; by hand, against `make dev`:
#   KICKSTART=kickstart/demo.json scripts/schemathesis.sh http://127.0.0.1:9011
# Start's API key is the first key of $KICKSTART without endpoint permissions (default: the
# black-box fixture), unless PASSWORDLESS_API_KEY is set.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh

BASE_URL=${1:-${BASE_URL:?usage: scripts/schemathesis.sh BASE_URL}}
KICKSTART=${KICKSTART:-tests/fixtures/kickstart.example.json}
ensure_venv

echo "== openapi.yaml: openapi-spec-validator"
"$VENV/bin/openapi-spec-validator" openapi.yaml

if [ -z "${PASSWORDLESS_API_KEY:-}" ]; then
  PASSWORDLESS_API_KEY=$("$VENV/bin/python" -c '
import json, sys
keys = json.load(open(sys.argv[1])).get("apiKeys", [])
print(next(k["key"] for k in keys if not k.get("permissions") and not k.get("tenantId")))
' "$KICKSTART")
fi
export PASSWORDLESS_API_KEY
export SCHEMATHESIS_HOOKS="$ROOT/scripts/schemathesis_hooks.py"

REPORT_DIR="$TARGET_DIR/schemathesis"
echo "== schemathesis against $BASE_URL (report: $REPORT_DIR)"
"$VENV/bin/st" --config-file scripts/schemathesis.toml run openapi.yaml \
  --url "$BASE_URL" --no-color --report junit --report-dir "$REPORT_DIR"
