#!/usr/bin/env bash
# Installs the dependencies, builds Quiver and runs the whole test suite (both backends; the
# OpenCL tests run on PoCL when no GPU is present and fail if no OpenCL device exists at all,
# unless QUIVER_ALLOW_NO_OPENCL=1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/fetch-model.sh
source scripts/openblas-env.sh
swift build --build-tests
# One test at a time: on 2 cores parallel tests only contend (the serial run is faster, 209 s vs
# 233 s), and in-process HTTP servers (LiveServer) starve when other tests hold the concurrency
# pool's threads with long synchronous model runs (URLSession timeouts in a fresh-clone run).
swift test --skip-build --no-parallel
