# Sourced by dev.sh and test.sh: runs the three functions under `cargo lambda watch` on
# 127.0.0.1:$1 with the tables and AWS settings of this shell. Sets WATCH_PID.
serve_functions() {
  local port=$1 concurrency=${2:-4}
  cargo build --quiet --bin start --bin send --bin login
  local env_args=()
  for name in DIRECTORY_TABLE CODES_TABLE DIRECTORY_CACHE_SECONDS AWS_ENDPOINT_URL \
    AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION RUST_LOG AWS_LAMBDA_LOG_FORMAT; do
    if [ -n "${!name:-}" ]; then env_args+=(--env-var "$name=${!name}"); fi
  done
  setsid cargo lambda watch --quiet --ignore-changes --disable-cors --offline \
    -A 127.0.0.1 -P "$port" --concurrency "$concurrency" "${env_args[@]}" \
    >"${WATCH_LOG:-/dev/stderr}" 2>&1 &
  WATCH_PID=$!
  wait_for_port "$port" "cargo lambda watch" "$WATCH_PID"
}
