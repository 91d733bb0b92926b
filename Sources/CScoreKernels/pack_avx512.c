// AVX-512 (F, BW, VL) packing: 32 source values of a row become one vector of 16 bf16 pairs
// (round to nearest even in integer arithmetic, then one word permute keeps the high halves);
// 16 such rows are transposed in registers so each pair index k gets one 64-byte store of its
// 16 items. The results equal pack.c's portable code bit for bit.
#include "pack_internal.h"

#if QSK_PACK_AVX512
#include <immintrin.h>

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))

// Lanes of a 16-wide block starting at column d that lie before D.
static inline __mmask16 lanes16(int d, int D) {
    int n = D - d;
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1);
}

// f32 bits rounded to nearest even at bit 16, NaN made quiet (high half keeps sign and payload).
static inline TARGET __m512i round_bf16(__m512 f) {
    const __m512i u = _mm512_castps_si512(f);
    const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    const __m512i rounded = _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)), lsb);
    const __m512i magnitude = _mm512_and_si512(u, _mm512_set1_epi32(0x7FFFFFFF));
    const __mmask16 nan = _mm512_cmpgt_epi32_mask(magnitude, _mm512_set1_epi32(0x7F800000));
    return _mm512_mask_mov_epi32(rounded, nan, _mm512_or_si512(u, _mm512_set1_epi32(0x00400000)));
}

// 32 values (lo: columns d..d+15, hi: d+16..d+31) → 16 words bf16(x[2k]) | bf16(x[2k+1]) << 16.
static inline TARGET __m512i pairs_of(__m512 lo, __m512 hi) {
    // Word j of the result is word 2j+1 (the high half of f32 lane j) of lo:hi.
    const __m512i odd = _mm512_set_epi16(63, 61, 59, 57, 55, 53, 51, 49, 47, 45, 43, 41, 39, 37, 35, 33,
                                         31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    return _mm512_permutex2var_epi16(round_bf16(lo), odd, round_bf16(hi));
}

// Row loaders: columns [d, d + 32) of `row` as bf16 pairs, zero at and past D. Masked loads
// (which never fault past D) only for the last block: on the Zen 5 build machines, packing with
// masked loads everywhere measured about 2x slower.
static inline TARGET __m512i pairs_f32(const float *row, int d, int D) {
    if (d + 32 <= D) return pairs_of(_mm512_loadu_ps(row + d), _mm512_loadu_ps(row + d + 16));
    return pairs_of(_mm512_maskz_loadu_ps(lanes16(d, D), row + d), _mm512_maskz_loadu_ps(lanes16(d + 16, D), row + d + 16));
}

// vcvtph2ps is exact for every f16, subnormals included.
static inline TARGET __m512 f32_from_f16(__m256i h) { return _mm512_cvtph_ps(h); }

static inline TARGET __m512i pairs_f16(const uint16_t *row, int d, int D) {
    if (d + 32 <= D)
        return pairs_of(f32_from_f16(_mm256_loadu_si256((const __m256i *)(row + d))),
                        f32_from_f16(_mm256_loadu_si256((const __m256i *)(row + d + 16))));
    return pairs_of(f32_from_f16(_mm256_maskz_loadu_epi16(lanes16(d, D), row + d)),
                    f32_from_f16(_mm256_maskz_loadu_epi16(lanes16(d + 16, D), row + d + 16)));
}

static inline TARGET __m512 f32_from_i8(__m128i b) { return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b)); }

static inline TARGET __m512i pairs_i8(const int8_t *row, int d, int D) {
    if (d + 32 <= D)
        return pairs_of(f32_from_i8(_mm_loadu_si128((const __m128i *)(row + d))),
                        f32_from_i8(_mm_loadu_si128((const __m128i *)(row + d + 16))));
    return pairs_of(f32_from_i8(_mm_maskz_loadu_epi8(lanes16(d, D), row + d)),
                    f32_from_i8(_mm_maskz_loadu_epi8(lanes16(d + 16, D), row + d + 16)));
}

// In place: r[i] lane j ↔ r[j] lane i (16 × 16 32-bit words).
static inline TARGET void transpose16(__m512i r[16]) {
    __m512i s[16], u[16];
    for (int a = 0; a < 8; a++) {  // lane L of s[2a]: rows 2a, 2a+1 at columns 4L, 4L+1; s[2a+1]: 4L+2, 4L+3
        s[2 * a] = _mm512_unpacklo_epi32(r[2 * a], r[2 * a + 1]);
        s[2 * a + 1] = _mm512_unpackhi_epi32(r[2 * a], r[2 * a + 1]);
    }
    for (int b = 0; b < 4; b++) {  // lane L of u[4b + c]: rows 4b..4b+3 at column 4L + c
        u[4 * b + 0] = _mm512_unpacklo_epi64(s[4 * b], s[4 * b + 2]);
        u[4 * b + 1] = _mm512_unpackhi_epi64(s[4 * b], s[4 * b + 2]);
        u[4 * b + 2] = _mm512_unpacklo_epi64(s[4 * b + 1], s[4 * b + 3]);
        u[4 * b + 3] = _mm512_unpackhi_epi64(s[4 * b + 1], s[4 * b + 3]);
    }
    for (int c = 0; c < 4; c++) {  // column 4L + c gathers lane L of u[c], u[4+c], u[8+c], u[12+c]
        __m512i v0 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x88), v1 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xDD);
        __m512i w0 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x88), w1 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xDD);
        r[c] = _mm512_shuffle_i32x4(v0, w0, 0x88);
        r[4 + c] = _mm512_shuffle_i32x4(v1, w1, 0x88);
        r[8 + c] = _mm512_shuffle_i32x4(v0, w0, 0xDD);
        r[12 + c] = _mm512_shuffle_i32x4(v1, w1, 0xDD);
    }
}

// Items: per panel and block of 16 pairs, 16 row vectors → transpose → one store per pair.
#define PACK_ITEMS(name, type, load)                                                            \
    TARGET void name(const type *x, int N, int D, int ldx, void *packed) {                      \
        const int Kp = (D + 1) / 2;                                                             \
        uint32_t *dst = (uint32_t *)packed;                                                     \
        for (int p = 0; p * QSK_PANEL < N; p++) {                                               \
            uint32_t *panel = dst + (size_t)p * Kp * QSK_PANEL;                                 \
            const int rows = N - p * QSK_PANEL < QSK_PANEL ? N - p * QSK_PANEL : QSK_PANEL;     \
            const type *first = x + (size_t)p * QSK_PANEL * ldx;                                \
            for (int k0 = 0; k0 < Kp; k0 += 16) {                                               \
                __m512i r[16];                                                                  \
                for (int i = 0; i < 16; i++)                                                    \
                    r[i] = i < rows ? load(first + (size_t)i * ldx, 2 * k0, D) : _mm512_setzero_si512(); \
                transpose16(r);                                                                 \
                const int n = Kp - k0 < 16 ? Kp - k0 : 16;                                      \
                for (int j = 0; j < n; j++) _mm512_storeu_si512(panel + (size_t)(k0 + j) * QSK_PANEL, r[j]); \
            }                                                                                   \
        }                                                                                       \
    }

PACK_ITEMS(qsk_internal_pack_f32_avx512, float, pairs_f32)
PACK_ITEMS(qsk_internal_pack_f16_avx512, uint16_t, pairs_f16)
PACK_ITEMS(qsk_internal_pack_i8_avx512, int8_t, pairs_i8)

// Queries: rows stay rows; 16 pairs per store, the last one masked to ⌈D/2⌉.
TARGET void qsk_internal_pack_queries_avx512(const float *q, int Q, int D, int ldq, void *packed) {
    const int Kp = (D + 1) / 2;
    uint32_t *dst = (uint32_t *)packed;
    for (int r = 0; r < Q; r++) {
        const float *row = q + (size_t)r * ldq;
        for (int k0 = 0; k0 < Kp; k0 += 16)
            _mm512_mask_storeu_epi32(dst + (size_t)r * Kp + k0, lanes16(k0, Kp), pairs_f32(row, 2 * k0, D));
    }
}
#endif
