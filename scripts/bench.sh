#!/usr/bin/env bash
# `make bench`: the performance targets, measured on this machine in one run, written to
# BENCHMARKS.md. Builds the functions with the deploy profile (the workspace release profile), a
# bare lambda_http hello world and the harness (bench/), and the arm64 bootstraps `sam build`
# makes (their sizes are the size target's), starts its own moto and a counting proxy
# on free ports, then measures: sizes and dependency trees, first-use costs, cold starts under a
# local Lambda Runtime API emulator, first vs warm invocations and peak RSS after a warm loop,
# AWS calls per request (their sequential waves and DynamoDB write and read units: the counting
# proxy, bench/count_proxy.py and bench/capacity.py), whole logins (journeys: waves, units, log
# bytes and EMF documents per request), and CPU per request in process (bench's `cpu`, then criterion:
# shared/benches, whose first build compiles the dependency tree again for the bench profile).
#
# Settings: COLD_RUNS (20), WARM_ITERATIONS (1000), FIRST_USE_RUNS (7), SKIP_CRITERION=1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/lib.sh

COLD_RUNS=${COLD_RUNS:-20}
WARM_ITERATIONS=${WARM_ITERATIONS:-1000}
FIRST_USE_RUNS=${FIRST_USE_RUNS:-7}
OUT="$TARGET_DIR/bench"
REL="$TARGET_DIR/release"
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/functions.log

stop_on_exit

ensure_venv

echo "== the counting proxy's arithmetic (waves, item sizes, units, metric series)"
python3 -m unittest discover -s bench -p 'test_*.py' 2>&1 | tail -1

echo "== build: the functions with the deploy profile, then the hello world and the harness"
# Separate invocations: cargo unifies features over the packages of one build, and the functions
# must be built exactly as they are deployed.
cargo build --release --quiet -p start -p send -p login -p refresh -p revoke -p jwks -p public-key \
  -p landing -p token \
  -p openid-configuration -p validate \
  -p authorize -p authorize-wait -p userinfo -p logout -p api-logout \
  -p user -p registration -p user-import
cargo build --release --quiet -p suppress # not HTTP; sizes.py lists every function of the template
cargo build --release --quiet -p hello
cargo build --release --quiet -p bench
# The admin CLI only provisions: the debug build `make dev` and `make test` use is enough.
cargo build --quiet --bin passwordless-admin

echo "== sam build: the arm64 bootstraps Lambda runs (log: $OUT/sam-build.log)"
scripts/build.sh >"$OUT/sam-build.log" 2>&1 || { tail -20 "$OUT/sam-build.log" >&2; exit 1; }

echo "== sizes and dependency trees"
"$VENV/bin/python" bench/sizes.py "$REL" .aws-sam/build >"$OUT/size.json"

echo "== first use in a fresh process (x$FIRST_USE_RUNS each)"
for mode in hs256 es256 code; do
  for _ in $(seq 1 "$FIRST_USE_RUNS"); do "$REL/first-use" "$mode"; done
done | python3 -c '
import json, statistics, sys
runs = {}
for line in sys.stdin:
    r = json.loads(line)
    runs.setdefault(r["mode"], []).append(r)
print(json.dumps({m: {"runs": len(v),
                      "first_us": statistics.median(x["first_us"] for x in v),
                      "first_us_max": max(x["first_us"] for x in v),
                      "warm_us": statistics.median(x["warm_us"] for x in v)} for m, v in runs.items()}))
' >"$OUT/first_use.json"

MOTO_PORT=$(free_port)
echo "== moto on 127.0.0.1:$MOTO_PORT"
setsid "$VENV/bin/python" scripts/moto_server.py "$MOTO_PORT" >"$OUT/moto.log" 2>&1 &
pids+=($!)
wait_for_port "$MOTO_PORT" moto "${pids[-1]}"
use_local_aws "http://127.0.0.1:$MOTO_PORT"
export DIRECTORY_TABLE=bench-directory CODES_TABLE=bench-codes
export SENDER_IDENTITIES=$("$VENV/bin/python" scripts/local_iam.py sender-identities bench/kickstart.json)
"$TARGET_DIR/debug/passwordless-admin" create-tables
"$TARGET_DIR/debug/passwordless-admin" load bench/kickstart.json
"$TARGET_DIR/debug/passwordless-admin" register-senders bench/kickstart.json

PROXY_PORT=$(free_port)
setsid "$VENV/bin/python" bench/count_proxy.py "$PROXY_PORT" "$AWS_ENDPOINT_URL" >"$OUT/proxy.log" 2>&1 &
pids+=($!)
wait_for_port "$PROXY_PORT" "counting proxy" "${pids[-1]}"
# The tables as the kickstart left them (one tenant, its application, keys and one user): the
# storage of a quiet tenant in the cost model.
"$VENV/bin/python" -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' \
  "http://127.0.0.1:$PROXY_PORT/__tables" >"$OUT/tables.json"

export BENCH_FUNCTION_LOG="$OUT/functions.log"
echo "== cold starts: $COLD_RUNS spawns of each function and of the hello world"
# Through the proxy, which times the calls: the time spent waiting on moto is reported apart.
"$REL/coldstart" cold "$REL" "$REL/hello" "$COLD_RUNS" "http://127.0.0.1:$PROXY_PORT" >"$OUT/cold.json"
echo "== AWS calls per request, through the counting proxy (with their waves and DynamoDB capacity)"
"$REL/coldstart" trips "$REL" "http://127.0.0.1:$PROXY_PORT" >"$OUT/trips.json"
echo "== whole logins: email-code and magic link, a 1 KB and a 20 KB user (waves, capacity, logs)"
"$REL/coldstart" journeys "$REL" "http://127.0.0.1:$PROXY_PORT" >"$OUT/journeys.json"
# Last: moto slows down as the loop fills its tables and outbox.
echo "== warm: $WARM_ITERATIONS start → send → login rounds, first vs warm, peak RSS"
"$REL/coldstart" warm "$REL" "$WARM_ITERATIONS" >"$OUT/warm.json"

echo "== CPU per request in process (in-memory ports, deploy profile)"
"$REL/cpu" >"$OUT/cpu.json"
if [ -z "${SKIP_CRITERION:-}" ]; then
  echo "== CPU per request in process (criterion, in-memory ports)"
  cargo bench --quiet -p passwordless --bench use_cases -- --noplot >"$OUT/criterion.txt" ||
    echo "criterion failed (see $OUT/criterion.txt); the table keeps the \`cpu\` figures" >&2
fi

# The cost model reads bench/prices.json and template.yaml (memory size, alarms).
python3 bench/report.py "$OUT" "$TARGET_DIR/criterion" BENCHMARKS.md
