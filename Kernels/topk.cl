// topk.cl — fused similarity + exact top-k (ComputeBackend.similarityTopK), f32 arithmetic.
//
// The host walks a catalog tile in chunks of at most `cap` rows and, per chunk and block of
// queries, enqueues two kernels:
//
//  1. score_filter: scores[q, t] = (queries[q] · tile[t]) · scale[t] + bias[t] for a TS_Q×TS_T
//     block per work-group (GEMM-style: local-memory tiles along D, a WPT_Q×WPT_T micro-tile of
//     accumulators per work-item, as in gemm.cl). Each score is compared, in registers, with
//     its query's threshold: the last (k-th) entry of the query's current list. Only scores that
//     could enter the list are appended to the query's candidate slots [cap] (the group reserves
//     a range per query with one global atomic_add). A query gets at most one candidate per row
//     of the chunk, so `cap` slots can never overflow. The score matrix is never stored.
//  2. topk_merge: one work-group per query merges the list with the candidates in local memory:
//     candidates that still beat the list's k-th entry and are not excluded (binary search in the
//     query's ascending CSR slice) are appended after the k entries, the array is padded to a
//     power of two and bitonic-sorted by the tie rule, and the first k become the new list. At
//     most SORT_N - k candidates join per round; rounds repeat until all are consumed. The list
//     is written back (only if it changed) and the query's candidate counter reset to 0.
//
// Tie rule: higher score first, then lower row; empty slots (row -1, score -inf) rank last.
// NaN scores never enter. Buffers come with 64-bit element offsets (tensors split over several
// buffers are processed piece by piece); indices inside one launch fit 32-bit ints. Every
// barrier is reached by every work-item: loops that contain barriers have uniform bounds.

#ifndef TS_Q
#define TS_Q 64        // queries per work-group (score_filter)
#endif
#ifndef TS_T
#define TS_T 64        // catalog rows per work-group (score_filter)
#endif
#ifndef TS_D
#define TS_D 16        // dimensions staged in local memory at a time
#endif
#ifndef WPT_Q
#define WPT_Q 4        // queries per work-item
#endif
#ifndef WPT_T
#define WPT_T 4        // catalog rows per work-item (≤ 32: pass flags are bits of a uint)
#endif
#ifndef TILE_TYPE
#define TILE_TYPE 0    // tile element type: 0 f32, 1 f16 (vload_half), 2 i8
#endif
#ifndef MERGE_WG
#define MERGE_WG 256   // work-items per topk_merge group; power of two, ≤ SORT_N - k
#endif
#ifndef SORT_N
#define SORT_N 2048    // local sort capacity: power of two ≥ k + MERGE_WG
#endif

#define RTS_Q (TS_Q / WPT_Q)        // work-items along queries (local dimension 1)
#define RTS_T (TS_T / WPT_T)        // work-items along catalog rows (local dimension 0)
#define GROUP (RTS_Q * RTS_T)
#define Q_LOADS ((TS_Q * TS_D + GROUP - 1) / GROUP)
#define T_LOADS ((TS_T * TS_D + GROUP - 1) / GROUP)

#if TILE_TYPE == 1
#define TILE_ELEM half
#define LOAD_TILE(p, i) vload_half((size_t)(i), (p))
#elif TILE_TYPE == 2
#define TILE_ELEM char
#define LOAD_TILE(p, i) convert_float((p)[i])
#else
#define TILE_ELEM float
#define LOAD_TILE(p, i) ((p)[i])
#endif

// (sa, ra) ranks before (sb, rb) under the tie rule; empty slots (row < 0) rank after everything.
inline bool ranks_before(const float sa, const int ra, const float sb, const int rb) {
    if (rb < 0) return ra >= 0;
    if (ra < 0) return false;
    return sa > sb || (sa == sb && ra < rb);
}

// A real entry (s, row ≥ 0) beats the list's k-th entry (ts, tr) and so could enter the list.
inline bool enters(const float s, const int row, const float ts, const int tr) {
    return !isnan(s) && ranks_before(s, row, ts, tr);
}

// scores: [nq × nt] block of queries [nq, D] against tile rows [nt, D] (catalog rows first_row...);
// appends the entering (score, row) pairs to cand_scores/cand_rows [nq, cap] at counts[q].
// top_scores/top_rows: the lists [nq, k], read for the thresholds only.
__kernel __attribute__((reqd_work_group_size(RTS_T, RTS_Q, 1)))
void score_filter(const int nq, const int nt, const int D, const int k, const int cap,
                  __global const float *queries, const ulong q_off,
                  __global const TILE_ELEM *tile, const ulong t_off,
                  __global const float *scale, const ulong scale_off, const int has_scale,
                  __global const float *bias, const ulong bias_off, const int has_bias,
                  const int first_row,
                  __global const float *top_scores, const ulong ts_off,
                  __global const int *top_rows, const ulong tr_off,
                  __global int *counts, __global float *cand_scores, __global int *cand_rows) {
    // +1 padding: the transposing stores below hit distinct local-memory banks.
    __local float Qs[TS_D][TS_Q + 1];
    __local float Ts[TS_D][TS_T + 1];
    __local int group_count[TS_Q];
    __local int group_base[TS_Q];

    queries += q_off; scale += scale_off; bias += bias_off; top_scores += ts_off; top_rows += tr_off;
    const int tx = get_local_id(0);
    const int ty = get_local_id(1);
    const int lid = ty * RTS_T + tx;
    const int t0 = get_group_id(0) * TS_T;
    const int q0 = get_group_id(1) * TS_Q;

    float acc[WPT_Q][WPT_T];
    #pragma unroll
    for (int i = 0; i < WPT_Q; i++) {
        #pragma unroll
        for (int j = 0; j < WPT_T; j++) acc[i][j] = 0.0f;
    }

    for (int d0 = 0; d0 < D; d0 += TS_D) {
        // Consecutive work-items read consecutive dimensions of one row (coalesced), stored transposed.
        #pragma unroll
        for (int l = 0; l < Q_LOADS; l++) {
            const int idx = lid + l * GROUP;
            if (idx < TS_Q * TS_D) {
                const int r = idx / TS_D, c = idx % TS_D;
                const int gq = q0 + r, gd = d0 + c;
                Qs[c][r] = (gq < nq && gd < D) ? queries[gq * D + gd] : 0.0f;
            }
        }
        #pragma unroll
        for (int l = 0; l < T_LOADS; l++) {
            const int idx = lid + l * GROUP;
            if (idx < TS_T * TS_D) {
                const int r = idx / TS_D, c = idx % TS_D;
                const int gt = t0 + r, gd = d0 + c;
                Ts[c][r] = (gt < nt && gd < D) ? LOAD_TILE(tile, t_off + (ulong)(gt * D + gd)) : 0.0f;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        #pragma unroll
        for (int c = 0; c < TS_D; c++) {
            float a[WPT_Q], b[WPT_T];
            #pragma unroll
            for (int i = 0; i < WPT_Q; i++) a[i] = Qs[c][ty + i * RTS_Q];
            #pragma unroll
            for (int j = 0; j < WPT_T; j++) b[j] = Ts[c][tx + j * RTS_T];
            #pragma unroll
            for (int i = 0; i < WPT_Q; i++) {
                #pragma unroll
                for (int j = 0; j < WPT_T; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    // Epilogue: scale/bias, threshold test (pass flags as bits), then a per-query slot count.
    for (int i = lid; i < TS_Q; i += GROUP) group_count[i] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);

    float row_scale[WPT_T], row_bias[WPT_T];
    #pragma unroll
    for (int j = 0; j < WPT_T; j++) {
        const int gt = t0 + tx + j * RTS_T;
        row_scale[j] = (has_scale && gt < nt) ? scale[gt] : 1.0f;
        row_bias[j] = (has_bias && gt < nt) ? bias[gt] : 0.0f;
    }
    uint pass[WPT_Q];
    int offset[WPT_Q];
    #pragma unroll
    for (int i = 0; i < WPT_Q; i++) {
        const int lq = ty + i * RTS_Q, gq = q0 + lq;
        pass[i] = 0;
        offset[i] = 0;
        if (gq < nq) {
            const float ts = top_scores[gq * k + k - 1];
            const int tr = top_rows[gq * k + k - 1];
            int n = 0;
            #pragma unroll
            for (int j = 0; j < WPT_T; j++) {
                const int gt = t0 + tx + j * RTS_T;
                acc[i][j] = acc[i][j] * row_scale[j] + row_bias[j];
                if (gt < nt && enters(acc[i][j], first_row + gt, ts, tr)) {
                    pass[i] |= 1u << j;
                    n++;
                }
            }
            if (n > 0) offset[i] = atomic_add(&group_count[lq], n);
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int i = lid; i < TS_Q; i += GROUP) {
        const int n = group_count[i];
        group_base[i] = n > 0 ? atomic_add(&counts[q0 + i], n) : 0;
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    #pragma unroll
    for (int i = 0; i < WPT_Q; i++) {
        if (pass[i] != 0) {
            const int lq = ty + i * RTS_Q, gq = q0 + lq;
            int slot = gq * cap + group_base[lq] + offset[i];
            #pragma unroll
            for (int j = 0; j < WPT_T; j++) {
                if (pass[i] & (1u << j)) {
                    cand_scores[slot] = acc[i][j];
                    cand_rows[slot] = first_row + t0 + tx + j * RTS_T;
                    slot++;
                }
            }
        }
    }
}

// rows[lo, hi) (ascending) contains row.
inline bool is_excluded(__global const int *rows, int lo, const int hi, const int row) {
    int h = hi;
    while (lo < h) {
        const int mid = (lo + h) >> 1;
        if (rows[mid] < row) lo = mid + 1; else h = mid;
    }
    return lo < hi && rows[lo] == row;
}

// Sorts s/r[0, n) best first by the tie rule (n a power of two), MERGE_WG work-items.
inline void bitonic_sort(__local float *s, __local int *r, const int n) {
    const int lid = get_local_id(0);
    for (int size = 2; size <= n; size <<= 1) {
        for (int stride = size >> 1; stride > 0; stride >>= 1) {
            for (int p = lid; p < (n >> 1); p += MERGE_WG) {
                const int i = 2 * p - (p & (stride - 1));
                const int j = i + stride;
                // Blocks with bit `size` clear are sorted best first, the others worst first.
                const bool swap = (i & size) == 0 ? ranks_before(s[j], r[j], s[i], r[i])
                                                  : ranks_before(s[i], r[i], s[j], r[j]);
                if (swap) {
                    const float ts = s[i]; s[i] = s[j]; s[j] = ts;
                    const int tr = r[i]; r[i] = r[j]; r[j] = tr;
                }
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
    }
}

// Merges each query's candidates [counts[q]] into its list [k] (see the top of the file).
// ex_offsets/ex_rows: the CSR exclusions of the whole query set; this launch's query q is
// query ex_query0 + q there.
__kernel __attribute__((reqd_work_group_size(MERGE_WG, 1, 1)))
void topk_merge(const int nq, const int k, const int cap,
                __global float *top_scores, const ulong ts_off,
                __global int *top_rows, const ulong tr_off,
                __global int *counts, __global const float *cand_scores, __global const int *cand_rows,
                __global const int *ex_offsets, __global const int *ex_rows, const int has_ex, const int ex_query0) {
    __local float ls[SORT_N];
    __local int lr[SORT_N];
    __local int fill;

    top_scores += ts_off; top_rows += tr_off;
    const int lid = get_local_id(0);
    const int room = SORT_N - k;   // candidates per round (≥ MERGE_WG, checked by the host)
    for (int q = get_group_id(0); q < nq; q += get_num_groups(0)) {
        const int count = counts[q];
        const int ex_lo = has_ex ? ex_offsets[ex_query0 + q] : 0;
        const int ex_hi = has_ex ? ex_offsets[ex_query0 + q + 1] : 0;
        __global const float *cs = cand_scores + q * cap;
        __global const int *cr = cand_rows + q * cap;
        for (int i = lid; i < (count > 0 ? k : 0); i += MERGE_WG) {   // a query without candidates is left as is
            ls[i] = top_scores[q * k + i];
            lr[i] = top_rows[q * k + i];
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        int base = 0;
        bool changed = false;
        while (base < count) {
            if (lid == 0) fill = 0;
            barrier(CLK_LOCAL_MEM_FENCE);
            const float ts = ls[k - 1];
            const int tr = lr[k - 1];
            // Append entering candidates after the list, MERGE_WG at a time, while a whole step fits.
            int taken = 0;
            while (base < count && taken + MERGE_WG <= room) {
                const int idx = base + lid;
                if (idx < count) {
                    const float s = cs[idx];
                    const int row = cr[idx];
                    if (enters(s, row, ts, tr) && !(has_ex && is_excluded(ex_rows, ex_lo, ex_hi, row))) {
                        const int slot = atomic_inc(&fill);
                        ls[k + slot] = s;
                        lr[k + slot] = row;
                    }
                }
                base += MERGE_WG;
                barrier(CLK_LOCAL_MEM_FENCE);
                taken = fill;
                barrier(CLK_LOCAL_MEM_FENCE);
            }
            // Pad to a power of two with empty slots, sort, keep the first k.
            int n = 0;
            if (taken > 0) {
                n = 1;
                while (n < k + taken) n <<= 1;
            }
            for (int i = k + taken + lid; i < n; i += MERGE_WG) {
                ls[i] = -INFINITY;
                lr[i] = -1;
            }
            barrier(CLK_LOCAL_MEM_FENCE);
            bitonic_sort(ls, lr, n);
            changed = changed || taken > 0;
        }
        if (changed) {
            for (int i = lid; i < k; i += MERGE_WG) {
                top_scores[q * k + i] = ls[i];
                top_rows[q * k + i] = lr[i];
            }
        }
        if (lid == 0) counts[q] = 0;
        barrier(CLK_LOCAL_MEM_FENCE);   // ls/lr are reloaded for the next query
    }
}
