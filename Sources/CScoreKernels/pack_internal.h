// Packing entry points shared between pack.c (portable code, dispatch) and pack_avx512.c.
// Arguments are validated by the public functions in pack.c.
#ifndef QUIVER_CSCOREKERNELS_PACK_INTERNAL_H
#define QUIVER_CSCOREKERNELS_PACK_INTERNAL_H

#include "CScoreKernels.h"

/// Nonzero while qsk_force_portable_packing is on (widen.c honours it too).
int qsk_internal_portable_forced(void);

#if defined(__x86_64__)
#define QSK_PACK_AVX512 1
void qsk_internal_pack_f32_avx512(const float *x, int N, int D, int ldx, void *packed);
void qsk_internal_pack_f16_avx512(const uint16_t *x, int N, int D, int ldx, void *packed);
void qsk_internal_pack_i8_avx512(const int8_t *x, int N, int D, int ldx, void *packed);
void qsk_internal_pack_queries_avx512(const float *q, int Q, int D, int ldq, void *packed);
#else
#define QSK_PACK_AVX512 0
#endif

#endif
