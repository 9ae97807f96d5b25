#!/usr/bin/env bash
# serve_functions.sh PORT CONCURRENCY ROUTES_JSON < ROLES_JSON (started by serve.sh, in its own
# process group)
#
# One `cargo lambda watch --bin F` per function with routes (ROUTES_JSON, from `local_iam.py
# routes`: {"start": [["POST", "/api/passwordless/start"]], …}), each on an internal port with
# CONCURRENCY instances, the table and AWS settings of the environment, and only its own
# credentials (from ROLES_JSON on stdin: {"start": {"AWS_ACCESS_KEY_ID": …}, …});
# scripts/router.py on PORT sends each route to its function's watch. Lambda runs each function with its own execution role; one
# watch would give all three one environment. serve.sh starts this without any AWS credentials in
# its environment: each watch passes its function only its own.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/scripts/lib.sh"
port=$1 concurrency=$2 routes_json=$3
roles=$(cat)

trap 'trap - TERM INT EXIT; kill -- -$$ 2>/dev/null || true' TERM INT EXIT

common=()
for name in DIRECTORY_TABLE CODES_TABLE DIRECTORY_CACHE_SECONDS AWS_ENDPOINT_URL AWS_REGION \
  RUST_LOG AWS_LAMBDA_LOG_FORMAT SES_CONFIGURATION_SET METRICS_NAMESPACE METRICS_TENANT_DIMENSION; do
  if [ -n "${!name:-}" ]; then common+=(--env-var "$name=${!name}"); fi
done

routes=()
mapfile -t served < <(python3 -c 'import json, sys
print("\n".join(b for b, r in json.loads(sys.argv[1]).items() if r))' "$routes_json")
for function in "${served[@]}"; do
  function_port=$(free_port)
  mapfile -t own < <(python3 -c '
import json, sys
for name, value in json.loads(sys.argv[1])[sys.argv[2]].items():
    print(f"--env-var={name}={value}")' "$roles" "$function")
  if [ "${#own[@]}" -eq 0 ]; then
    echo "serve_functions.sh: no credentials for $function on stdin" >&2
    exit 1
  fi
  cargo lambda watch --quiet --ignore-changes --disable-cors --offline --bin "$function" \
    -A 127.0.0.1 -P "$function_port" --concurrency "$concurrency" "${common[@]}" "${own[@]}" &
  wait_for_port "$function_port" "cargo lambda watch ($function)" $!
  # The API's routes, and the Lambda Invoke API's path (`cargo lambda invoke`, README).
  mapfile -t own_routes < <(python3 -c 'import json, sys
for method, path in json.loads(sys.argv[1])[sys.argv[2]]:
    print(f"{method} {path}={sys.argv[3]}")' "$routes_json" "$function" "127.0.0.1:$function_port")
  routes+=("${own_routes[@]}" "/2015-03-31/functions/$function/invocations=127.0.0.1:$function_port")
done
unset roles own

"$VENV/bin/python" "$ROOT/scripts/router.py" "$port" "${routes[@]}" &
wait -n
echo "serve_functions.sh: a function's watch or the router exited" >&2
