// bf16 score GEMM for reduced-precision catalogs: out = queries · itemsᵀ with both sides rounded
// to bfloat16 and products accumulated in f32, on AVX512_BF16 (`vdpbf16ps`: two bf16 products per
// f32 lane, twice the multiply-adds of an f32 FMA per instruction).
//
// Meant for approximate scores that an exact f32 rescoring of a shortlist corrects: bf16 keeps
// 8 significant bits, so each product has a relative error up to ~2^-8.
//
// Use: pack the queries once (qsk_pack_queries), pack each catalog tile (qsk_pack_items_*), then
// qsk_bf16_scores. Packing is portable C (any CPU); qsk_bf16_scores returns -2 where the CPU lacks
// AVX512_BF16, and the caller falls back to f32 sgemm. Every function is single-threaded and
// reentrant: threads may call it concurrently on disjoint outputs.
//
// Sizes and leading dimensions are counted in elements. Functions return 0, -1 for invalid
// arguments (negative sizes, D < 1, a leading dimension below D, NULL pointers), and -2 (kernel
// only) when the CPU cannot run it; nothing is written unless they return 0.
#ifndef QUIVER_CSCOREKERNELS_H
#define QUIVER_CSCOREKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Items per panel of the packed item layout.
enum { QSK_PANEL = 16 };

/// Bytes of a packed item tile: ⌈N/16⌉ · ⌈D/2⌉ · 64.
///
/// Packed item layout, bf16 as uint16: [⌈N/16⌉ panels][⌈D/2⌉ pairs][16 items][2], i.e. element
/// [p][k][i][j] = bf16(x[16p + i][2k + j]), zero where 16p + i ≥ N or 2k + j ≥ D. Panel p starts
/// at byte p · ⌈D/2⌉ · 64, so rows [16p, 16p + n) can be packed separately (by another thread)
/// into that offset.
size_t qsk_items_packed_bytes(int N, int D);

/// Bytes of packed queries: Q · ⌈D/2⌉ · 4.
///
/// Packed query layout: [Q][⌈D/2⌉] uint32, each the bf16 pair (q[2k] in the low 16 bits,
/// q[2k+1] in the high 16 bits, 0 past D), so one 32-bit broadcast feeds a `vdpbf16ps`.
size_t qsk_queries_packed_bytes(int Q, int D);

/// Packs N f32 rows of x ([N, ldx] row-major, first D columns used) into `packed`
/// (qsk_items_packed_bytes(N, D) bytes, any alignment), rounding to nearest even.
/// NaN stays NaN; values beyond bf16's range round to ±inf as in IEEE.
int qsk_pack_items_f32(const float *x, int N, int D, int ldx, void *packed);

/// As qsk_pack_items_f32 for IEEE binary16 rows (bit patterns as uint16), rounded to nearest even
/// (f16 has 11 significant bits, bf16 8; every f16 value is in bf16's range).
int qsk_pack_items_f16(const uint16_t *x, int N, int D, int ldx, void *packed);

/// As qsk_pack_items_f32 for int8 rows; exact (bf16 holds every integer in [-256, 256]).
/// Per-row dequantization scales are the caller's: multiply the scores afterwards.
int qsk_pack_items_i8(const int8_t *x, int N, int D, int ldx, void *packed);

/// Packs Q f32 query rows ([Q, ldq] row-major) into `packed` (qsk_queries_packed_bytes(Q, D)
/// bytes, 4-byte aligned), rounding to nearest even.
int qsk_pack_queries(const float *q, int Q, int D, int ldq, void *packed);

/// out[q · ldOut + n] = Σ_d bf16(q[d]) · bf16(x[n][d]) for q < Q, n < N, accumulated in f32
/// (pairs of products, then the running sum), from packed queries and items of the same D.
/// Other elements of `out` are not touched. Cost: 2·Q·N·D flops; the packed items of 64 rows
/// (64 · D · 2 bytes) are reused from L1/L2 across all queries.
/// Returns 0; -1 for invalid arguments (ldOut < N); -2 when the CPU lacks AVX512_BF16.
int qsk_bf16_scores(const void *queriesPacked, int Q, const void *itemsPacked, int N, int D, float *out, int ldOut);

/// Tests only: nonzero makes the packing and widening functions use their portable C version
/// instead of the AVX-512 / F16C one (both produce the same bytes); 0 restores the automatic choice. Process-wide.
void qsk_force_portable_packing(int on);

/// The top-k scan's filter: writes the positions j < n (ascending) whose score
/// raw[j] · scale[j] + bias[j] ≥ threshold to index[], and those scores to value[] (scale/bias
/// NULL mean 1 and 0); returns how many. index and value need room for n entries. NaN scores
/// never pass. AVX-512 where available, else portable C; same results.
int qsk_filter_ge(const float *raw, const float *scale, const float *bias, int n, float threshold,
                  int32_t *index, float *value);

/// out[i] = x[i] for i < count: IEEE binary16 bit patterns widened to f32, exactly (F16C where the
/// CPU has it, else portable C; same results).
void qsk_widen_f16(const uint16_t *x, size_t count, float *out);

/// out[i] = (float)x[i] for i < count (AVX2 where the CPU has it).
void qsk_widen_i8(const int8_t *x, size_t count, float *out);

/// 1 when qsk_bf16_scores runs on this CPU (AVX-512 F/BW/VL and BF16), else 0.
int qsk_bf16_supported(void);

#endif
