// Widening of reduced-precision catalog rows to f32, for CPUs that score them with f32 sgemm
// (no AVX512_BF16). F16C converts 8 halves per instruction; without it a portable bit-level
// conversion runs (exact for every f16, subnormals, infinities and NaN included).
#include "pack_internal.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#if defined(__x86_64__)
// 1 when the CPU has F16C and AVX2 (detected once; a benign race computes the same value).
static int has_f16c_avx2(void) {
    if (qsk_internal_portable_forced()) return 0;
    static int state = -1;
    int s = __atomic_load_n(&state, __ATOMIC_RELAXED);
    if (s < 0) {
        __builtin_cpu_init();
        s = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx2");
        __atomic_store_n(&state, s, __ATOMIC_RELAXED);
    }
    return s;
}

__attribute__((target("avx2,f16c")))
static void widen_f16_f16c(const uint16_t *x, size_t count, float *out) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(x + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(x + i + 8));
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(a));
        _mm256_storeu_ps(out + i + 8, _mm256_cvtph_ps(b));
    }
    for (; i < count; i++) out[i] = _cvtsh_ss(x[i]);
}

__attribute__((target("avx2")))
static void widen_i8_avx2(const int8_t *x, size_t count, float *out) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(x + i));
        _mm256_storeu_ps(out + i, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)));
        _mm256_storeu_ps(out + i + 8, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(v, 8))));
    }
    for (; i < count; i++) out[i] = (float)x[i];
}
#endif

// One IEEE binary16 bit pattern as f32, exactly.
static float f32_from_f16_bits(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x3FF, bits;
    if (exponent == 0x1F) {
        bits = sign | 0x7F800000 | (mantissa << 13);
    } else if (exponent != 0) {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    } else if (mantissa == 0) {
        bits = sign;
    } else {  // subnormal: normalize
        int shift = 0;
        while (!(mantissa & 0x400)) { mantissa <<= 1; shift++; }
        bits = sign | ((uint32_t)(113 - shift) << 23) | ((mantissa & 0x3FF) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

void qsk_widen_f16(const uint16_t *x, size_t count, float *out) {
#if defined(__x86_64__)
    if (has_f16c_avx2()) { widen_f16_f16c(x, count, out); return; }
#endif
    for (size_t i = 0; i < count; i++) out[i] = f32_from_f16_bits(x[i]);
}

void qsk_widen_i8(const int8_t *x, size_t count, float *out) {
#if defined(__x86_64__)
    if (has_f16c_avx2()) { widen_i8_avx2(x, count, out); return; }
#endif
    for (size_t i = 0; i < count; i++) out[i] = (float)x[i];
}
