#!/usr/bin/env bash
# Builds the portable release binary dist/quiver: the Swift runtime and Foundation are linked
# statically (--static-swift-stdlib) and so is OpenBLAS, so the binary needs only glibc and
# libstdc++/libgcc_s on the target host. OpenCL is not linked at all: the ICD loader
# (libOpenCL.so.1) is opened at run time, and without it the binary runs on the CPU backend.
# Usage: scripts/dist.sh   (or `make dist`); scratch build folder: .build-dist (DIST_SCRATCH).
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${DIST_SCRATCH:-.build-dist}"
multiarch="$(gcc -print-multiarch 2>/dev/null || echo "$(uname -m)-linux-gnu")"

# The CBLAS module map links `-lopenblas`; a folder holding only the static archive, searched
# before the system folders, makes that flag pick libopenblas.a instead of libopenblas.so.
openblas_a="$(readlink -f "/usr/lib/$multiarch/libopenblas.a" || true)"
if [ ! -f "$openblas_a" ]; then
  echo "error: /usr/lib/$multiarch/libopenblas.a not found; run scripts/install-deps.sh (libopenblas-dev)" >&2
  exit 1
fi
mkdir -p "$scratch/static-libs"
static_libs="$(cd "$scratch/static-libs" && pwd)"
ln -sf "$openblas_a" "$static_libs/libopenblas.a"

# `quiver bench --url` uses SwiftNIO (no FoundationNetworking, hence no libcurl), so it is in here too.
swift build -c release --product quiver --scratch-path "$scratch" \
  --static-swift-stdlib \
  -Xlinker -L"$static_libs"

mkdir -p dist
cp "$scratch/release/quiver" dist/quiver.tmp
strip dist/quiver.tmp
mv dist/quiver.tmp dist/quiver
echo "dist/quiver: $(du -h dist/quiver | cut -f1)"
ldd dist/quiver || true
