#!/usr/bin/env bash
# Installs the dependencies, builds a release quiver, lists the compute devices and runs a small
# GEMM on the backend `auto` picks (and on every other backend present), checked against float64.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product quiver
bin=.build/release/quiver
"$bin" devices
echo
"$bin" gemm --m 512 --n 512 --k 512
"$bin" gemm --m 512 --n 512 --k 512 --backend cpu
if "$bin" devices --json | grep -q '"openCLStatus" : "ok"'; then
  "$bin" gemm --m 512 --n 512 --k 512 --backend opencl
fi
