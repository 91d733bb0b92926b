#!/usr/bin/env bash
# Installs the dependencies, builds a release quiver, lists the compute devices and runs a small
# GEMM on the backend `auto` picks, then on each other backend present, each checked against float64.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product quiver
bin=.build/release/quiver
"$bin" devices
echo
"$bin" gemm --m 512 --n 512 --k 512
report=$("$bin" devices --json)
if ! grep -q '"autoPick" : "cpu"' <<<"$report"; then
  "$bin" gemm --m 512 --n 512 --k 512 --backend cpu
elif grep -q '"openCLStatus" : "ok"' <<<"$report"; then
  "$bin" gemm --m 512 --n 512 --k 512 --backend opencl
fi
