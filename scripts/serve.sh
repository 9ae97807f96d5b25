# Sourced by dev.sh, test.sh and soak.sh: serves the functions of template.yaml on 127.0.0.1:$1 with the
# tables and AWS settings of this shell (scripts/serve_functions.sh: one `cargo lambda watch` per
# function behind scripts/router.py). Sets WATCH_PID, the leader of their process group.
#
# With local IAM on (LOCAL_IAM=1, after enforce_local_iam in lib.sh), each function runs with its
# own role, made from template.yaml by scripts/local_iam.py for these tables and SENDER_IDENTITIES
# (comma-separated SES identities, as template.yaml's SenderIdentities);
# otherwise every function gets this shell's credentials.
serve_functions() {
  local port=$1 concurrency=${2:-4} roles routes served bins=()
  # Every function with an HttpApi route in template.yaml, and its routes.
  routes=$("$VENV/bin/python" "$ROOT/scripts/local_iam.py" routes)
  mapfile -t served < <("$VENV/bin/python" -c 'import json, sys
print("\n".join(b for b, r in json.loads(sys.argv[1]).items() if r))' "$routes")
  for binary in "${served[@]}"; do bins+=(--bin "$binary"); done
  cargo build --quiet "${bins[@]}"
  if [ -n "${LOCAL_IAM:-}" ]; then
    roles=$("$VENV/bin/python" "$ROOT/scripts/local_iam.py" roles \
      --directory-table "$DIRECTORY_TABLE" --codes-table "$CODES_TABLE" \
      --sender-identities "$SENDER_IDENTITIES" --prefix "${IAM_PREFIX:-passwordless}")
  else
    roles=$("$VENV/bin/python" -c 'import json, os, sys
names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
own = {n: os.environ[n] for n in names if os.environ.get(n)}
print(json.dumps({f: own for f in json.loads(sys.argv[1])}))' "$routes")
  fi
  # The credentials go on stdin, never into an environment the function processes inherit; the
  # watches and the router get none of this shell's.
  setsid env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
    "$ROOT/scripts/serve_functions.sh" "$port" "$concurrency" "$routes" <<<"$roles" \
    >"${WATCH_LOG:-/dev/stderr}" 2>&1 &
  WATCH_PID=$!
  wait_for_port "$port" "the functions" "$WATCH_PID"
}
