// Threshold filter for the top-k scan: of a row of raw scores, the positions whose final score
// (raw · scale + bias) reaches a threshold. Almost every score of a large catalog falls below a
// query's current k-th best, so the scan is one vector compare per 16 scores; only survivors
// reach the (scalar) heap.
#include "CScoreKernels.h"
#include <immintrin.h>

// 1 when the CPU has AVX-512 F (detected once; a benign race computes the same value).
static int has_avx512f(void) {
    static int state = -1;
    int s = __atomic_load_n(&state, __ATOMIC_RELAXED);
    if (s < 0) {
        __builtin_cpu_init();
        s = __builtin_cpu_supports("avx512f") != 0;
        __atomic_store_n(&state, s, __ATOMIC_RELAXED);
    }
    return s;
}

__attribute__((target("avx512f")))
static int filter_avx512(const float *raw, const float *scale, const float *bias, int n, float threshold,
                         int32_t *index, float *value) {
    const __m512 t = _mm512_set1_ps(threshold);
    int count = 0, j = 0;
    for (; j + 16 <= n; j += 16) {
        __m512 s = _mm512_loadu_ps(raw + j);
        if (scale) s = _mm512_mul_ps(s, _mm512_loadu_ps(scale + j));
        if (bias) s = _mm512_add_ps(s, _mm512_loadu_ps(bias + j));
        __mmask16 keep = _mm512_cmp_ps_mask(s, t, _CMP_GE_OQ);
        if (keep) {
            const __m512i lanes = _mm512_add_epi32(_mm512_set1_epi32(j),
                _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
            _mm512_mask_compressstoreu_epi32(index + count, keep, lanes);
            _mm512_mask_compressstoreu_ps(value + count, keep, s);
            count += __builtin_popcount(keep);
        }
    }
    for (; j < n; j++) {
        float s = raw[j] * (scale ? scale[j] : 1.0f) + (bias ? bias[j] : 0.0f);
        if (s >= threshold) { index[count] = j; value[count] = s; count++; }
    }
    return count;
}

static int filter_portable(const float *raw, const float *scale, const float *bias, int n, float threshold,
                           int32_t *index, float *value) {
    int count = 0;
    for (int j = 0; j < n; j++) {
        float s = raw[j] * (scale ? scale[j] : 1.0f) + (bias ? bias[j] : 0.0f);
        if (s >= threshold) { index[count] = j; value[count] = s; count++; }
    }
    return count;
}

int qsk_filter_ge(const float *raw, const float *scale, const float *bias, int n, float threshold,
                  int32_t *index, float *value) {
    if (n <= 0) return 0;
    return has_avx512f() ? filter_avx512(raw, scale, bias, n, threshold, index, value)
                                : filter_portable(raw, scale, bias, n, threshold, index, value);
}
