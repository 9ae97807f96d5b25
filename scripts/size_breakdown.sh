#!/usr/bin/env bash
# `scripts/size_breakdown.sh FUNCTION [TOP]`: relinks FUNCTION (start, send or login) with the
# deploy profile and a linker map, then prints what its bytes are (bench/size_breakdown.py).
# Not part of `make bench`: the relink with fat LTO takes minutes, and the next release build of
# FUNCTION relinks again.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh
FUNCTION=${1:?usage: scripts/size_breakdown.sh start|send|login [TOP]}
MAP="$TARGET_DIR/$FUNCTION.map"
cargo rustc --release --quiet -p "$FUNCTION" --bin "$FUNCTION" -- -C "link-arg=-Wl,-Map=$MAP"
python3 bench/size_breakdown.py "$MAP" "${2:-25}"
