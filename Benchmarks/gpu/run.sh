#!/bin/sh
# GPU benchmark suite (issue 8): `quiver bench --suite gpu` on an OpenCL device, checked against the
# CPU backend. Writes $OUT.json and $OUT.md (default Benchmarks/results/gpu-$SIZE).
#
#   Benchmarks/gpu/run.sh                                  # full size on the first GPU (needs ~25 GB scratch)
#   SIZE=small OUT=Benchmarks/results/gpu-pocl Benchmarks/gpu/run.sh   # PoCL / CI size, under a minute
#   Benchmarks/gpu/run.sh --device 1 --peak-gflops 51000 --peak-bandwidth 2000 --scratch /data/tmp
#
# The binary: $QUIVER if set, else dist/quiver (`make dist`, for GPU hosts without Swift), else a
# release build into $SCRATCH. Extra arguments go to `quiver bench`. On a host with only the dist
# binary, run it directly instead:
#   quiver bench --suite gpu --model all-MiniLM-L6-v2 --json gpu.json --report gpu.md
set -eu
cd "$(dirname "$0")/../.."
SIZE=${SIZE:-full}
OUT=${OUT:-Benchmarks/results/gpu-$SIZE}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
SCRATCH=${SCRATCH:-.build-bench}

if [ -n "${QUIVER:-}" ]; then
  bin=$QUIVER
elif [ -x dist/quiver ]; then
  bin=dist/quiver
else
  swift build -c release --scratch-path "$SCRATCH" --product quiver
  bin=$SCRATCH/release/quiver
fi
if [ ! -d "$MODEL" ]; then
  echo "no model at $MODEL: run scripts/fetch-model.sh, set MODEL=DIR, or pass --sections gemm,scoring,search" >&2
fi
. scripts/openblas-env.sh

mkdir -p "$(dirname "$OUT")"
echo "$bin bench --suite gpu --size $SIZE (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
"$bin" bench --suite gpu --size "$SIZE" --model "$MODEL" --backend opencl --json "$OUT.json" --report "$OUT.md" "$@"
