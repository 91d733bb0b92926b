#!/bin/sh
# Issue 7's server benchmark: `quiver bench --url` against `quiver serve` vs `quiver bench` against the
# in-process engine, same model, policy and latency target, in ROUNDS (default 3) interleaved rounds:
#  1. max sustainable rate (open-loop sweep, p99 <= TARGET) over HTTP and in process;
#  2. single-request latency (closed loop, one client) over HTTP and in process: the HTTP overhead.
# Writes Benchmarks/results/server-{http,inprocess,http-single,inprocess-single}-rN.json and
# Benchmarks/results/server.md (Benchmarks/server/summary.py: medians over the rounds). CPU backend, all-MiniLM-L6-v2,
# generated short queries. The load generator, the server and the engine share the machine's cores.
#
#   Benchmarks/server/run.sh
#   TARGET=100ms DURATION=10s ROUNDS=1 Benchmarks/server/run.sh
set -eu
cd "$(dirname "$0")/../.."
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
TARGET=${TARGET:-50ms}
DURATION=${DURATION:-6s}
SINGLE_DURATION=${SINGLE_DURATION:-10s}
OUT=${OUT:-Benchmarks/results/server}
MAX_LOAD=${MAX_LOAD:-1.0}
MAX_WAIT=${MAX_WAIT:-600}
SCRATCH=${SCRATCH:-.build-bench}

swift build -c release --scratch-path "$SCRATCH" --product quiver
. scripts/openblas-env.sh
QUIVER="$SCRATCH/release/quiver"

waited=0
while [ "$(awk '{ print ($1 < '"$MAX_LOAD"') }' /proc/loadavg)" != 1 ] && [ "$waited" -lt "$MAX_WAIT" ]; do
  echo "load average $(cut -d' ' -f1 /proc/loadavg) >= $MAX_LOAD; waiting ($waited s)" >&2
  sleep 20
  waited=$((waited + 20))
done
echo "starting at load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
mkdir -p "$(dirname "$OUT")"

ROUNDS=${ROUNDS:-3}
LOG=$(mktemp)
SERVER=
trap 'if [ -n "$SERVER" ]; then kill $SERVER 2>/dev/null || true; fi; rm -f "$LOG"' EXIT INT TERM
COMMON="--latency-target $TARGET --warmup 1s"

# Rounds interleave the two sides, so a slow spell of this shared machine hits both alike.
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round of $ROUNDS" >&2
  "$QUIVER" serve --model "$MODEL" --backend cpu --port 0 --latency-target "$TARGET" 2>"$LOG" &
  SERVER=$!
  URL=
  for _ in $(seq 1 600); do
    URL=$(grep -o 'listening on http://[0-9.]*:[0-9]*' "$LOG" | sed 's/listening on //' || true)
    [ -n "$URL" ] && break
    kill -0 $SERVER 2>/dev/null || { cat "$LOG" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$URL" ] || { echo "the server did not start" >&2; cat "$LOG" >&2; exit 1; }
  echo "server at $URL" >&2
  "$QUIVER" bench --url "$URL" --sweep --duration "$DURATION" $COMMON --json "$OUT-http-r$round.json"
  "$QUIVER" bench --url "$URL" --concurrency 1 --duration "$SINGLE_DURATION" $COMMON --json "$OUT-http-single-r$round.json"
  kill $SERVER; wait $SERVER 2>/dev/null || true
  SERVER=
  "$QUIVER" bench --model "$MODEL" --backend cpu --sweep --duration "$DURATION" $COMMON --json "$OUT-inprocess-r$round.json"
  "$QUIVER" bench --model "$MODEL" --backend cpu --concurrency 1 --duration "$SINGLE_DURATION" $COMMON --json "$OUT-inprocess-single-r$round.json"
done
python3 Benchmarks/server/summary.py "$OUT" "$ROUNDS" > "$OUT.md"
cat "$OUT.md"
echo "finished at load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
