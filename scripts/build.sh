#!/usr/bin/env bash
# `make build`: `sam build` of template.yaml into .aws-sam/build, ready for `sam deploy`.
# Installs what it needs: aws-sam-cli (.venv-sam), cargo-lambda and zig (.venv), the arm64 Rust
# target. The release build goes to a target directory outside the clone, so the tree stays clean.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh

ensure_venv     # cargo-lambda and zig, first on PATH (lib.sh)
ensure_sam_venv # sam and cfn-lint
# Every function of template.yaml, by logical id.
mapfile -t FUNCTIONS < <("$VENV/bin/python" -c '
import sys; sys.path.insert(0, "scripts"); import local_iam
print("\n".join(local_iam.functions()))')
rustup target add aarch64-unknown-linux-gnu >/dev/null

# The workflow honours CARGO_TARGET_DIR. A directory of its own keeps the arm64 release build from
# waiting on (and being invalidated by) the debug builds in ./target.
export CARGO_TARGET_DIR="${SAM_CARGO_TARGET_DIR:-$HOME/.cache/passwordless-sam-target}"
mkdir -p "$CARGO_TARGET_DIR"

echo "== sam build (cargo lambda build --release --arm64; target dir $CARGO_TARGET_DIR)"
# rust-cargolambda is a beta build method: samconfig.toml enables beta features too.
"$SAM" build --beta-features "$@"

# What Lambda will run: an aarch64 ELF executable named bootstrap in each function's artifact.
for fn in "${FUNCTIONS[@]}"; do
  bootstrap=".aws-sam/build/$fn/bootstrap"
  python3 - "$bootstrap" <<'PY'
import struct, sys
path = sys.argv[1]
try:
    with open(path, "rb") as f:
        header = f.read(20)
except OSError as e:
    sys.exit(f"{path}: {e.strerror}")
# ELF magic, then e_machine (little-endian u16 at offset 18): 183 is EM_AARCH64.
if header[:4] != b"\x7fELF" or struct.unpack_from("<H", header, 18)[0] != 183:
    sys.exit(f"{path} is not an aarch64 ELF executable")
PY
  echo "$bootstrap: aarch64 ELF, $(du -h "$bootstrap" | cut -f1)"
done
echo "next: $SAM deploy --guided   (or: sam deploy, once samconfig.toml has your answers)"
