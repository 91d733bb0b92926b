// Packing into the layouts described in CScoreKernels.h: argument checks, the portable version
// (any CPU; also the reference the tests hold pack_avx512.c to) and the run-time choice.
#include "pack_internal.h"

#include <string.h>

static inline uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }
static inline float bits_f32(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }

// f32 → bf16, round to nearest, ties to even: add 0x7FFF plus the lowest kept bit, truncate.
// A carry into the exponent is the correct rounding, up to ±inf past bf16's largest value.
// NaN keeps its sign and top payload bits, with the quiet bit set (rounding could make it inf).
static inline uint32_t bf16_from_f32(float f) {
    uint32_t u = f32_bits(f);
    uint32_t rounded = (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
    uint32_t nan = (u >> 16) | 0x0040u;
    return (u & 0x7FFFFFFFu) > 0x7F800000u ? nan : rounded;
}

// IEEE binary16 → f32, exact. Normals: move exponent and mantissa into place and add the bias
// difference (127 − 15) to the exponent; subnormals: mantissa · 2^-24 (both exact, no f32
// subnormals involved); inf/NaN: all-ones exponent, mantissa kept.
static inline float f32_from_f16(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t em = h & 0x7FFFu;
    uint32_t normal = (em << 13) + (112u << 23);
    uint32_t sub = f32_bits((float)em * 0x1p-24f);
    uint32_t special = 0x7F800000u | ((em & 0x3FFu) << 13);
    uint32_t mag = em < 0x400u ? sub : (em >= 0x7C00u ? special : normal);
    return bits_f32(sign | mag);
}

enum { F32, F16, I8 };

// Element i of a row of the given storage type, as bf16 bits.
static inline uint32_t bf16_at(const void *row, int type, int i) {
    switch (type) {
    case F16: return bf16_from_f32(f32_from_f16(((const uint16_t *)row)[i]));
    case I8: return bf16_from_f32((float)((const int8_t *)row)[i]);
    default: return bf16_from_f32(((const float *)row)[i]);
    }
}

// bf16(row[2k]) | bf16(row[2k + 1]) << 16, 0 past D.
static inline uint32_t pair_at(const void *row, int type, int k, int D) {
    uint32_t lo = bf16_at(row, type, 2 * k);
    return 2 * k + 1 < D ? lo | bf16_at(row, type, 2 * k + 1) << 16 : lo;
}

// Items (type F32/F16/I8, element size `size` bytes): item i of panel p, pair k goes to 32-bit
// word (p · Kp + k) · 16 + i. Portable and simple rather than fast: CPUs without AVX-512 cannot
// run the kernel, so this code serves other CPUs' callers and the tests.
static void pack_items_portable(const void *x, int type, size_t size, int N, int D, int ldx, void *packed) {
    const int Kp = (D + 1) / 2;
    uint32_t *dst = (uint32_t *)packed;
    for (int p = 0; p * QSK_PANEL < N; p++) {
        uint32_t *panel = dst + (size_t)p * Kp * QSK_PANEL;
        for (int i = 0; i < QSK_PANEL; i++) {
            const int r = p * QSK_PANEL + i;
            const char *row = r < N ? (const char *)x + (size_t)r * ldx * size : NULL;
            for (int k = 0; k < Kp; k++) panel[(size_t)k * QSK_PANEL + i] = row ? pair_at(row, type, k, D) : 0;
        }
    }
}

// Queries: pair k of row r at 32-bit word r · Kp + k.
static void pack_queries_portable(const float *q, int Q, int D, int ldq, void *packed) {
    const int Kp = (D + 1) / 2;
    uint32_t *dst = (uint32_t *)packed;
    for (int r = 0; r < Q; r++)
        for (int k = 0; k < Kp; k++) dst[(size_t)r * Kp + k] = pair_at(q + (size_t)r * ldq, F32, k, D);
}

static int force_portable = 0;

void qsk_force_portable_packing(int on) { __atomic_store_n(&force_portable, on != 0, __ATOMIC_RELAXED); }

int qsk_internal_portable_forced(void) { return __atomic_load_n(&force_portable, __ATOMIC_RELAXED); }

// 1 when pack_avx512.c may run (AVX-512 F/BW/VL; detected once, a benign race computes the same value).
static int use_avx512(void) {
#if QSK_PACK_AVX512
    if (__atomic_load_n(&force_portable, __ATOMIC_RELAXED)) return 0;
    static int state = -1;
    int s = __atomic_load_n(&state, __ATOMIC_RELAXED);
    if (s < 0) {
        __builtin_cpu_init();
        s = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
        __atomic_store_n(&state, s, __ATOMIC_RELAXED);
    }
    return s;
#else
    return 0;
#endif
}

static int valid(const void *x, int rows, int D, int ld, const void *packed) {
    return rows >= 0 && D >= 1 && ld >= D && (rows == 0 || (x != NULL && packed != NULL));
}

size_t qsk_items_packed_bytes(int N, int D) {
    if (N <= 0 || D <= 0) return 0;
    return (size_t)((N + QSK_PANEL - 1) / QSK_PANEL) * (size_t)((D + 1) / 2) * QSK_PANEL * 4;
}

size_t qsk_queries_packed_bytes(int Q, int D) {
    if (Q <= 0 || D <= 0) return 0;
    return (size_t)Q * (size_t)((D + 1) / 2) * 4;
}

#if QSK_PACK_AVX512
#define AVX512_OR(call) if (use_avx512()) { call; return 0; }
#else
#define AVX512_OR(call)
#endif

int qsk_pack_items_f32(const float *x, int N, int D, int ldx, void *packed) {
    if (!valid(x, N, D, ldx, packed)) return -1;
    AVX512_OR(qsk_internal_pack_f32_avx512(x, N, D, ldx, packed))
    pack_items_portable(x, F32, sizeof *x, N, D, ldx, packed);
    return 0;
}

int qsk_pack_items_f16(const uint16_t *x, int N, int D, int ldx, void *packed) {
    if (!valid(x, N, D, ldx, packed)) return -1;
    AVX512_OR(qsk_internal_pack_f16_avx512(x, N, D, ldx, packed))
    pack_items_portable(x, F16, sizeof *x, N, D, ldx, packed);
    return 0;
}

int qsk_pack_items_i8(const int8_t *x, int N, int D, int ldx, void *packed) {
    if (!valid(x, N, D, ldx, packed)) return -1;
    AVX512_OR(qsk_internal_pack_i8_avx512(x, N, D, ldx, packed))
    pack_items_portable(x, I8, sizeof *x, N, D, ldx, packed);
    return 0;
}

int qsk_pack_queries(const float *q, int Q, int D, int ldq, void *packed) {
    if (!valid(q, Q, D, ldq, packed)) return -1;
    AVX512_OR(qsk_internal_pack_queries_avx512(q, Q, D, ldq, packed))
    pack_queries_portable(q, Q, D, ldq, packed);
    return 0;
}
