# Sourced by the scripts: selects OpenBLAS's AVX-512 kernels where the CPU has them.
# Debian 12's OpenBLAS 0.3.21 misdetects recent AVX-512 CPUs (AMD Zen 4/5) as Haswell and reads
# OPENBLAS_CORETYPE only when the library loads, so processes that cannot re-execute themselves
# (the test runner, benchmarks) need it in their environment. The quiver CLI handles this itself.
if [ -z "${OPENBLAS_CORETYPE:-}" ] && grep -qw avx512f /proc/cpuinfo 2>/dev/null \
   && grep -qw avx512bw /proc/cpuinfo && grep -qw avx512vl /proc/cpuinfo && grep -qw avx512dq /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SkylakeX
fi
