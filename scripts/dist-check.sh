#!/usr/bin/env bash
# Checks the portable binary: builds dist/quiver (scripts/dist.sh) unless a binary is given,
# copies it to a temporary folder outside the repository and, from there,
#   1. asserts its shared libraries are only glibc, libstdc++ and libgcc_s (ldd), so no
#      libswift*, Foundation, OpenBLAS, gfortran or OpenCL library is needed on the host;
#   2. runs `quiver devices` and a small CPU `quiver gemm` with the OpenCL loader pointing nowhere;
#   3. runs a small OpenCL `quiver gemm` on the embedded kernels when an OpenCL device exists
#      (PoCL here; skipped with a note when there is none).
# Usage: scripts/dist-check.sh [BINARY]   (or `make dist-check`). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ge 1 ]; then
  binary="$(readlink -f "$1")"
else
  scripts/dist.sh
  binary="$PWD/dist/quiver"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$binary" "$work/quiver"
cd "$work"
fail() { echo "dist-check FAILED: $*" >&2; exit 1; }

# 1. Shared libraries: every line of ldd must be a whitelisted one.
allowed='^(linux-vdso\.so\.1|/lib64/ld-linux-x86-64\.so\.2|ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libutil\.so\.1|libstdc\+\+\.so\.6|libgcc_s\.so\.1)$'
ldd ./quiver | tee ldd.txt
libs="$(awk '{print $1}' ldd.txt)"
[ -n "$libs" ] || fail "ldd printed nothing"
unexpected="$(echo "$libs" | grep -Ev "$allowed" || true)"
[ -z "$unexpected" ] || fail "links libraries a GPU host may not have: $(echo $unexpected)"

# 2. No OpenCL loader: devices explains it, and the CPU backend computes.
export QUIVER_OPENCL_LIBRARY="$work/no-such-libOpenCL.so.1" QUIVER_CACHE_DIR="$work/cache"
./quiver devices > devices.txt || fail "quiver devices exited non-zero without the OpenCL loader"
cat devices.txt
grep -q "loader missing" devices.txt || fail "quiver devices does not say the OpenCL loader is missing"
grep -q "auto picks: cpu" devices.txt || fail "quiver devices does not fall back to the CPU backend"
./quiver gemm --m 33 --n 65 --k 129 --repeats 1 --backend auto > gemm-cpu.txt || fail "CPU gemm exited non-zero"
cat gemm-cpu.txt
grep -q "(ok)" gemm-cpu.txt || fail "CPU gemm result does not match float64"
unset QUIVER_OPENCL_LIBRARY

# 3. With the system loader: OpenCL kernels embedded in the binary (no Kernels/ folder here).
if ! ./quiver devices --json | grep -q '"openCLStatus" : "ok"'; then
  echo "note: no OpenCL device on this host; skipped the OpenCL gemm"
else
  ./quiver gemm --m 20 --n 30 --k 40 --transpose-b --repeats 1 --backend opencl > gemm-cl.txt \
    || fail "OpenCL gemm exited non-zero"
  cat gemm-cl.txt
  grep -q "(ok)" gemm-cl.txt || fail "OpenCL gemm result does not match float64"
fi
echo "dist-check ok: $binary ($(du -h "$binary" | cut -f1))"
