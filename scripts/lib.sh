# Shared by dev.sh and test.sh: the virtualenv, moto, and waiting for ports.

VENV="$ROOT/.venv"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
export PATH="$VENV/bin:$PATH" # cargo-lambda finds its zig here

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
  fi
  if ! cmp -s "$ROOT/requirements-dev.txt" "$VENV/.installed" 2>/dev/null; then
    echo "installing tools into .venv (moto, cargo-lambda, fusionauth-client, authlib, pytest)..."
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/requirements-dev.txt"
    cp "$ROOT/requirements-dev.txt" "$VENV/.installed"
  fi
}

# The Node relying party of the black-box tests (openid-client), pinned by
# tests/blackbox/rp/package-lock.json and installed with `npm ci` into its git-ignored node_modules.
RP_DIR="$ROOT/tests/blackbox/rp"
ensure_node_modules() {
  if ! command -v npm >/dev/null || ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
    echo "the openid-client tests need Node.js 20 or later with npm; found: $(node --version 2>&1 || true)" >&2
    return 1
  fi
  if ! cmp -s "$RP_DIR/package-lock.json" "$RP_DIR/node_modules/.installed" 2>/dev/null; then
    echo "installing the Node relying party into tests/blackbox/rp/node_modules (openid-client)..."
    (cd "$RP_DIR" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$RP_DIR/package-lock.json" "$RP_DIR/node_modules/.installed"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_for_port() { # port, what, pid
  for _ in $(seq 1 600); do
    if python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$1)))" 2>/dev/null; then
      return 0
    fi
    if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then
      echo "$2 exited before listening on port $1" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "$2 did not listen on port $1 in time" >&2
  return 1
}

# Starts moto on $1 in the background; sets MOTO_PID.
start_moto() {
  "$VENV/bin/python" "$ROOT/scripts/moto_server.py" "$1" >"${MOTO_LOG:-/dev/null}" 2>&1 &
  MOTO_PID=$!
  wait_for_port "$1" moto "$MOTO_PID"
}

# Dummy credentials for the emulator; a real endpoint keeps whatever the environment has.
use_local_aws() {
  export AWS_ENDPOINT_URL="$1"
  export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}"
  export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"
  export AWS_REGION="${AWS_REGION:-us-east-1}"
}

# IAM enforced on the emulator at $AWS_ENDPOINT_URL (scripts/local_iam.py admin): creates the
# admin user, switches enforcement on, and exports the admin's key for this shell (the admin CLI,
# the harness, the tests). Sets LOCAL_IAM=1, so that serve_functions gives each function its own
# role. Call it right after starting moto, before anything else talks to it.
enforce_local_iam() {
  local exports
  exports=$("$VENV/bin/python" "$ROOT/scripts/local_iam.py" admin)
  eval "$exports"
  export LOCAL_IAM=1
}

# The SAM CLI and cfn-lint, in their own virtualenv (requirements-sam.txt). Sets SAM and CFN_LINT;
# leaves PATH alone, so .venv's cargo-lambda and zig stay first.
SAM_VENV="$ROOT/.venv-sam"
ensure_sam_venv() {
  if [ ! -x "$SAM_VENV/bin/python" ]; then
    python3 -m venv "$SAM_VENV"
  fi
  if ! cmp -s "$ROOT/requirements-sam.txt" "$SAM_VENV/.installed" 2>/dev/null; then
    echo "installing tools into .venv-sam (aws-sam-cli, cfn-lint)..."
    "$SAM_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/requirements-sam.txt"
    cp "$ROOT/requirements-sam.txt" "$SAM_VENV/.installed"
  fi
  SAM="$SAM_VENV/bin/sam"
  CFN_LINT="$SAM_VENV/bin/cfn-lint"
  # Offline: no telemetry, no update check; a region for validation without credentials.
  export SAM_CLI_TELEMETRY=0
  export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-${AWS_REGION:-us-east-1}}"
}

# The background process groups a script starts (`pids+=(...)`), ended when it exits: call
# `stop_on_exit` once, before starting any.
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
stop_on_exit() { trap stop_all EXIT; }

# moto on a free port (MOTO_PORT), single-threaded (scripts/moto_server.py), with IAM enforced
# and the environment pointed at it: what the tests and the local service run against.
start_enforced_moto() {
  MOTO_PORT=$(free_port)
  setsid "$VENV/bin/python" "$ROOT/scripts/moto_server.py" "$MOTO_PORT" >/dev/null 2>&1 &
  pids+=($!)
  wait_for_port "$MOTO_PORT" moto "${pids[-1]}"
  use_local_aws "http://127.0.0.1:$MOTO_PORT"
  enforce_local_iam
  export LOCAL_IAM_PYTHON="$VENV/bin/python" # the integration tests make their roles with it
}
