# Sourced by the scripts: gives processes that cannot re-execute themselves (the test runner,
# benchmarks) the OpenBLAS kernels the quiver CLI would pick (see OpenBLASEnvironment.swift):
# on a CPU with AVX-512 F/BW/VL/DQ/CD, OPENBLAS_CORETYPE=SkylakeX unless OpenBLAS would already
# use an AVX-512 core. QUIVER_OPENBLAS_CORETYPE=keep leaves the environment alone; another value
# is used as the core type.
case "${QUIVER_OPENBLAS_CORETYPE:-auto}" in
  keep) ;;
  auto|"")
    case "${OPENBLAS_CORETYPE:-}" in
      [Ss]kylake[Xx]|SKYLAKEX|[Cc]ooperlake|COOPERLAKE|[Ss]apphire[Rr]apids|SAPPHIRERAPIDS) ;;
      *)
        flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
        ok=1
        for f in avx512f avx512bw avx512vl avx512dq avx512cd; do
          case " $flags " in *" $f "*) ;; *) ok=0 ;; esac
        done
        if [ "$ok" = 1 ]; then export OPENBLAS_CORETYPE=SkylakeX; fi
        ;;
    esac
    ;;
  *) export OPENBLAS_CORETYPE="$QUIVER_OPENBLAS_CORETYPE" ;;
esac
# Idle OpenBLAS workers sleep after 2^10 cycles instead of spinning ~0.1 s (see OpenBLASEnvironment).
if [ "${QUIVER_OPENBLAS_CORETYPE:-auto}" != keep ] && [ -z "${OPENBLAS_THREAD_TIMEOUT:-}" ]; then
  export OPENBLAS_THREAD_TIMEOUT=10
fi
