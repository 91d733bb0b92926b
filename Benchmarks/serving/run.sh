#!/bin/sh
# Policy comparison for issue 6: `quiver bench --sweep` per scheduling policy, in one process, on the
# CPU backend with all-MiniLM-L6-v2 and generated short queries. Writes Benchmarks/results/serving.{json,svg,md};
# then the slo policy alone with its engine deadline MARGIN below the target (--timeout), written to
# Benchmarks/results/serving-slo-margin.{json,md}.
#
#   Benchmarks/serving/run.sh                  # defaults below
#   TARGET=100ms DURATION=10s Benchmarks/serving/run.sh
#
# Waits (up to MAX_WAIT seconds) for the 1-minute load average to drop below MAX_LOAD first: the
# build machines are shared and a busy core moves every figure. The load during each run is in the JSON.
set -eu
cd "$(dirname "$0")/../.."
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
TARGET=${TARGET:-50ms}
DURATION=${DURATION:-6s}
POLICIES=${POLICIES:-slo,none,window:8:2ms,window:16:5ms,window:32:5ms,window:32:10ms}
OUT=${OUT:-Benchmarks/results/serving}
MARGIN_DEADLINE=${MARGIN_DEADLINE:-40ms}
MAX_LOAD=${MAX_LOAD:-1.0}
MAX_WAIT=${MAX_WAIT:-600}
SCRATCH=${SCRATCH:-.build-bench}

swift build -c release --scratch-path "$SCRATCH" --product quiver
. scripts/openblas-env.sh

waited=0
while [ "$(awk '{ print ($1 < '"$MAX_LOAD"') }' /proc/loadavg)" != 1 ] && [ "$waited" -lt "$MAX_WAIT" ]; do
  echo "load average $(cut -d' ' -f1 /proc/loadavg) >= $MAX_LOAD; waiting ($waited s)" >&2
  sleep 20
  waited=$((waited + 20))
done
echo "starting at load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2

mkdir -p "$(dirname "$OUT")"
"$SCRATCH/release/quiver" bench --model "$MODEL" --backend cpu --workload embed \
  --sweep --policies "$POLICIES" --latency-target "$TARGET" --duration "$DURATION" --warmup 1s \
  --json "$OUT.json" --report "$OUT.svg" --report "$OUT.md" "$@"
"$SCRATCH/release/quiver" bench --model "$MODEL" --backend cpu --workload embed \
  --sweep --policies slo --timeout "$MARGIN_DEADLINE" --latency-target "$TARGET" --duration "$DURATION" --warmup 1s \
  --json "$OUT-slo-margin.json" --report "$OUT-slo-margin.md" "$@"
echo "finished at load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
