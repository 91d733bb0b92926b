// qvm_gemm_nt_small: c = a · wᵀ (+ beta · c) for few rows of a, without packing w.
//
// OpenBLAS packs the whole weight matrix into its panel layout on every sgemm call. For the few
// rows of a real-time batch (one short query is ~8 token rows) that copy costs more than the
// product: 52% of a single-query forward pass of all-MiniLM-L6-v2 was sgemm_incopy (perf, 2-core
// EPYC). Here each thread streams its slice of w's rows once from memory and dots it with every
// row of a, held in L1.
#include "CVectorMath.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma")))
static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Columns [n0, n1): blocks of 4 rows of w against pairs of rows of a (8 accumulators), then the
// leftovers one by one.
__attribute__((target("avx2,fma")))
static void gemm_nt_avx2(size_t m, size_t n0, size_t n1, size_t k, const float *a, const float *w,
                         float beta, float *c, size_t ldc) {
    size_t k8 = k & ~(size_t)7;
    size_t j = n0;
    for (; j + 4 <= n1; j += 4) {
        const float *w0 = w + j * k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
        size_t i = 0;
        for (; i + 2 <= m; i += 2) {
            const float *a0 = a + i * k, *a1 = a0 + k;
            __m256 s00 = _mm256_setzero_ps(), s01 = s00, s02 = s00, s03 = s00;
            __m256 s10 = s00, s11 = s00, s12 = s00, s13 = s00;
            for (size_t p = 0; p < k8; p += 8) {
                __m256 x0 = _mm256_loadu_ps(a0 + p), x1 = _mm256_loadu_ps(a1 + p), v;
                v = _mm256_loadu_ps(w0 + p); s00 = _mm256_fmadd_ps(x0, v, s00); s10 = _mm256_fmadd_ps(x1, v, s10);
                v = _mm256_loadu_ps(w1 + p); s01 = _mm256_fmadd_ps(x0, v, s01); s11 = _mm256_fmadd_ps(x1, v, s11);
                v = _mm256_loadu_ps(w2 + p); s02 = _mm256_fmadd_ps(x0, v, s02); s12 = _mm256_fmadd_ps(x1, v, s12);
                v = _mm256_loadu_ps(w3 + p); s03 = _mm256_fmadd_ps(x0, v, s03); s13 = _mm256_fmadd_ps(x1, v, s13);
            }
            float r0[4] = {hsum(s00), hsum(s01), hsum(s02), hsum(s03)};
            float r1[4] = {hsum(s10), hsum(s11), hsum(s12), hsum(s13)};
            for (size_t p = k8; p < k; p++) {
                r0[0] += a0[p] * w0[p]; r0[1] += a0[p] * w1[p]; r0[2] += a0[p] * w2[p]; r0[3] += a0[p] * w3[p];
                r1[0] += a1[p] * w0[p]; r1[1] += a1[p] * w1[p]; r1[2] += a1[p] * w2[p]; r1[3] += a1[p] * w3[p];
            }
            float *c0 = c + i * ldc + j, *c1 = c0 + ldc;
            for (int q = 0; q < 4; q++) {
                c0[q] = (beta == 0 ? 0 : beta * c0[q]) + r0[q];
                c1[q] = (beta == 0 ? 0 : beta * c1[q]) + r1[q];
            }
        }
        for (; i < m; i++) {
            const float *a0 = a + i * k;
            __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
            for (size_t p = 0; p < k8; p += 8) {
                __m256 x0 = _mm256_loadu_ps(a0 + p);
                s0 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w0 + p), s0);
                s1 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w1 + p), s1);
                s2 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w2 + p), s2);
                s3 = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w3 + p), s3);
            }
            float r0[4] = {hsum(s0), hsum(s1), hsum(s2), hsum(s3)};
            for (size_t p = k8; p < k; p++) {
                r0[0] += a0[p] * w0[p]; r0[1] += a0[p] * w1[p]; r0[2] += a0[p] * w2[p]; r0[3] += a0[p] * w3[p];
            }
            float *c0 = c + i * ldc + j;
            for (int q = 0; q < 4; q++) c0[q] = (beta == 0 ? 0 : beta * c0[q]) + r0[q];
        }
    }
    for (; j < n1; j++) {
        const float *w0 = w + j * k;
        for (size_t i = 0; i < m; i++) {
            const float *a0 = a + i * k;
            __m256 s = _mm256_setzero_ps();
            for (size_t p = 0; p < k8; p += 8) s = _mm256_fmadd_ps(_mm256_loadu_ps(a0 + p), _mm256_loadu_ps(w0 + p), s);
            float r = hsum(s);
            for (size_t p = k8; p < k; p++) r += a0[p] * w0[p];
            float *cij = c + i * ldc + j;
            *cij = (beta == 0 ? 0 : beta * *cij) + r;
        }
    }
}
#endif

int qvm_gemm_nt_small(size_t m, size_t n0, size_t n1, size_t k, const float *a, const float *w, float beta,
                      float *c, size_t ldc) {
#if defined(__x86_64__)
    const char *variant = qvm_variant();
    if (variant[1] == 'v') {  // "avx512" or "avx2-fma": both have AVX2 + FMA
        gemm_nt_avx2(m, n0, n1, k, a, w, beta, c, ldc);
        return 0;
    }
#endif
    (void)m; (void)n0; (void)n1; (void)k; (void)a; (void)w; (void)beta; (void)c; (void)ldc;
    return -2;
}
