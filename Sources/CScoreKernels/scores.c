// The bf16 score kernel: see CScoreKernels.h for the packed layouts.
//
// Register blocking: an MV × NQ tile of outputs (MV item vectors of 16 f32 lanes, NQ queries)
// lives in MV·NQ zmm accumulators. Per pair of dimensions the tile loads MV item vectors (16 items
// × 2 bf16 each) and broadcasts NQ query pairs (32 bits each), then issues MV·NQ `vdpbf16ps`.
// 24 accumulators are enough independent chains to hide the instruction's latency with more than
// one issued per cycle, and leave registers for the 4 item vectors and the broadcast.
//
// Cache blocking: a block of MV panels (64 items · D · 2 bytes, 48 KB at D = 384) stays in L1/L2
// while every query of a chunk (sized to stay in L2) streams past it at 4 bytes per broadcast.
#include "CScoreKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define QSK_HAS_BF16_KERNEL 1
#else
#define QSK_HAS_BF16_KERNEL 0
#endif

#define QSK_MV 4  // item vectors per tile (16 items each)
#define QSK_NQ 6  // queries per tile

// Bytes of packed queries per chunk: the chunk is re-read for every block of item panels.
enum { QUERY_CHUNK_BYTES = 512 << 10 };

#if QSK_HAS_BF16_KERNEL
#define QSK_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// One tile: out[n][0..16·mv) for the nq query rows at `queries` (stride Kp words) against the mv
// panels at `items` (stride Kp·16 words). `lastMask` selects the lanes stored from the last panel.
// Called with constant mv and nq, so the loops unroll and `acc` stays in registers.
static inline __attribute__((always_inline)) QSK_TARGET
void tile(int mv, int nq, const uint32_t *queries, const uint32_t *items, int Kp, float *out, size_t ldOut,
          __mmask16 lastMask) {
    __m512 acc[QSK_MV][QSK_NQ];
    for (int m = 0; m < mv; m++)
        for (int n = 0; n < nq; n++) acc[m][n] = _mm512_setzero_ps();
    const size_t panelWords = (size_t)Kp * QSK_PANEL;
    for (int k = 0; k < Kp; k++) {
        __m512bh x[QSK_MV];
        for (int m = 0; m < mv; m++)
            x[m] = (__m512bh)_mm512_loadu_si512(items + m * panelWords + (size_t)k * QSK_PANEL);
        for (int n = 0; n < nq; n++) {
            __m512bh q = (__m512bh)_mm512_set1_epi32((int)queries[(size_t)n * Kp + k]);
            for (int m = 0; m < mv; m++) acc[m][n] = _mm512_dpbf16_ps(acc[m][n], x[m], q);
        }
    }
    for (int n = 0; n < nq; n++) {
        float *row = out + (size_t)n * ldOut;
        for (int m = 0; m < mv - 1; m++) _mm512_storeu_ps(row + 16 * m, acc[m][n]);
        _mm512_mask_storeu_ps(row + 16 * (mv - 1), lastMask, acc[mv - 1][n]);
    }
}

// tile() instantiated for every (mv, nq) with mv ≤ QSK_MV, nq ≤ QSK_NQ.
typedef void (*TileFn)(const uint32_t *, const uint32_t *, int, float *, size_t, __mmask16);
#define TILE_FN(mv, nq)                                                                            \
    static QSK_TARGET void tile_##mv##_##nq(const uint32_t *q, const uint32_t *x, int Kp, float *o, \
                                             size_t ld, __mmask16 mask) {                          \
        tile(mv, nq, q, x, Kp, o, ld, mask);                                                       \
    }
#define TILE_ROW(mv) TILE_FN(mv, 1) TILE_FN(mv, 2) TILE_FN(mv, 3) TILE_FN(mv, 4) TILE_FN(mv, 5) TILE_FN(mv, 6)
TILE_ROW(1) TILE_ROW(2) TILE_ROW(3) TILE_ROW(4)
#define TILE_PTRS(mv) { tile_##mv##_1, tile_##mv##_2, tile_##mv##_3, tile_##mv##_4, tile_##mv##_5, tile_##mv##_6 }
_Static_assert(QSK_MV == 4 && QSK_NQ == 6, "the tile table covers mv ≤ 4, nq ≤ 6");
static const TileFn tiles[4][6] = { TILE_PTRS(1), TILE_PTRS(2), TILE_PTRS(3), TILE_PTRS(4) };

static QSK_TARGET void scores_bf16(const uint32_t *queries, int Q, const uint32_t *items, int N, int D, float *out,
                                   size_t ldOut) {
    const int Kp = (D + 1) / 2;
    const int panels = (N + QSK_PANEL - 1) / QSK_PANEL;
    const __mmask16 tailMask = (__mmask16)(N % QSK_PANEL ? (1u << (N % QSK_PANEL)) - 1 : 0xFFFFu);
    int chunk = QUERY_CHUNK_BYTES / (Kp * 4);
    chunk = chunk < QSK_NQ ? QSK_NQ : chunk - chunk % QSK_NQ;
    for (int q0 = 0; q0 < Q; q0 += chunk) {
        const int q1 = Q - q0 < chunk ? Q : q0 + chunk;
        for (int p = 0; p < panels; p += QSK_MV) {
            const int mv = panels - p < QSK_MV ? panels - p : QSK_MV;
            const __mmask16 mask = p + mv == panels ? tailMask : 0xFFFFu;
            const uint32_t *x = items + (size_t)p * Kp * QSK_PANEL;
            for (int q = q0; q < q1; q += QSK_NQ) {
                const int nq = q1 - q < QSK_NQ ? q1 - q : QSK_NQ;
                tiles[mv - 1][nq - 1](queries + (size_t)q * Kp, x, Kp, out + (size_t)q * ldOut + (size_t)p * QSK_PANEL,
                                      ldOut, mask);
            }
        }
    }
}
#endif

int qsk_bf16_supported(void) {
#if QSK_HAS_BF16_KERNEL
    static int state = -1;  // detected once; a benign race computes the same value
    int s = __atomic_load_n(&state, __ATOMIC_RELAXED);
    if (s < 0) {
        __builtin_cpu_init();
        s = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
        __atomic_store_n(&state, s, __ATOMIC_RELAXED);
    }
    return s;
#else
    return 0;
#endif
}

int qsk_bf16_scores(const void *queriesPacked, int Q, const void *itemsPacked, int N, int D, float *out, int ldOut) {
    if (Q < 0 || N < 0 || D < 1 || ldOut < N) return -1;
    if (Q == 0 || N == 0) return qsk_bf16_supported() ? 0 : -2;
    if (queriesPacked == NULL || itemsPacked == NULL || out == NULL) return -1;
    if (!qsk_bf16_supported()) return -2;
#if QSK_HAS_BF16_KERNEL
    scores_bf16((const uint32_t *)queriesPacked, Q, (const uint32_t *)itemsPacked, N, D, out, (size_t)ldOut);
    return 0;
#else
    return -2;
#endif
}
