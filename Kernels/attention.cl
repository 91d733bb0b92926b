// attention.cl — multi-head scaled-dot-product attention with a key padding mask, computed
// flash-attention style: the S×S score matrix is never stored anywhere.
//
//   Q, K, V, O: [B, S, heads·HEAD_DIM] (row-major), mask: [B, S] int (nonzero = real token).
//   O[b, s, h] = Σ_t softmax_t(scale · q·k_t) v_t over kept t; zeros when no key is kept.
//
// Grid: dimension 0 = query blocks of BLOCK_Q queries (one work-item per query), dimension 1 =
// (batch, head) pairs. The group stages its queries through local memory (coalesced), then
// streams keys/values through local memory BLOCK_K at a time. Each work-item keeps its query,
// running max m, running sum l and output accumulator in private registers and updates them
// once per key tile (online softmax in base 2: scores are pre-multiplied by scale·log2 e).
// Outputs go back through local memory so the global stores are coalesced too.
// Local memory: max(BLOCK_Q·(HEAD_DIM+1), 2·BLOCK_K·HEAD_DIM) floats + BLOCK_K ints.

#ifndef HEAD_DIM
#define HEAD_DIM 64
#endif
#ifndef BLOCK_Q
#define BLOCK_Q 64
#endif
#ifndef BLOCK_K
#define BLOCK_K 32
#endif

#define LOG2E 1.4426950408889634f
#define QS_STRIDE (HEAD_DIM + 1)   // padded: work-item i reads row i, rows hit distinct banks
#define Q_FLOATS (BLOCK_Q * QS_STRIDE)
#define KV_FLOATS (2 * BLOCK_K * HEAD_DIM)
#define SMEM_FLOATS (Q_FLOATS > KV_FLOATS ? Q_FLOATS : KV_FLOATS)

__kernel __attribute__((reqd_work_group_size(BLOCK_Q, 1, 1)))
void attention(__global const float *Q, const ulong q_off,
               __global const float *K, const ulong k_off,
               __global const float *V, const ulong v_off,
               __global const int *mask, const ulong mask_off,
               __global float *O, const ulong o_off,
               const int S, const int heads, const float scale) {
    __local float smem[SMEM_FLOATS];
    __local int keep[BLOCK_K];
    __local float *Ks = smem;                          // [BLOCK_K][HEAD_DIM]
    __local float *Vs = smem + BLOCK_K * HEAD_DIM;     // [BLOCK_K][HEAD_DIM]
    __local float *Qs = smem;                          // [BLOCK_Q][QS_STRIDE], before/after the key loop

    const int lid = get_local_id(0);
    const int q0 = get_group_id(0) * BLOCK_Q;
    const int bh = get_group_id(1);
    const int b = bh / heads;
    const int h = bh - b * heads;
    const int hidden = heads * HEAD_DIM;
    const int base = b * S * hidden + h * HEAD_DIM;
    Q += q_off + base; K += k_off + base; V += v_off + base; O += o_off + base;
    mask += mask_off + b * S;

    for (int idx = lid; idx < BLOCK_Q * HEAD_DIM; idx += BLOCK_Q) {
        const int r = idx / HEAD_DIM, c = idx - r * HEAD_DIM;
        Qs[r * QS_STRIDE + c] = (q0 + r < S) ? Q[(q0 + r) * hidden + c] : 0.0f;
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    const float qscale = scale * LOG2E;
    float q[HEAD_DIM], acc[HEAD_DIM];
    #pragma unroll
    for (int d = 0; d < HEAD_DIM; d++) {
        q[d] = Qs[lid * QS_STRIDE + d] * qscale;
        acc[d] = 0.0f;
    }
    float m = -INFINITY;   // running max of the scores seen (log2 units)
    float l = 0.0f;        // running Σ 2^(score - m)

    for (int t0 = 0; t0 < S; t0 += BLOCK_K) {
        barrier(CLK_LOCAL_MEM_FENCE);   // everyone is done with the previous tile / the query staging
        for (int idx = lid; idx < BLOCK_K * HEAD_DIM; idx += BLOCK_Q) {
            const int r = idx / HEAD_DIM, c = idx - r * HEAD_DIM;
            const int in = t0 + r < S;
            Ks[idx] = in ? K[(t0 + r) * hidden + c] : 0.0f;
            Vs[idx] = in ? V[(t0 + r) * hidden + c] : 0.0f;
        }
        for (int j = lid; j < BLOCK_K; j += BLOCK_Q) keep[j] = (t0 + j < S) && mask[t0 + j] != 0;
        barrier(CLK_LOCAL_MEM_FENCE);

        float s[BLOCK_K];
        float tmax = -INFINITY;
        #pragma unroll
        for (int j = 0; j < BLOCK_K; j++) {
            float dot = 0.0f;
            #pragma unroll
            for (int d = 0; d < HEAD_DIM; d++) dot = fma(q[d], Ks[j * HEAD_DIM + d], dot);
            s[j] = keep[j] ? dot : -INFINITY;
            tmax = fmax(tmax, s[j]);
        }
        if (tmax != -INFINITY) {   // the tile has a kept key (same for the whole group)
            const float mnew = fmax(m, tmax);
            const float corr = exp2(m - mnew);   // 0 on the first kept tile (m = -inf)
            l *= corr;
            #pragma unroll
            for (int d = 0; d < HEAD_DIM; d++) acc[d] *= corr;
            #pragma unroll
            for (int j = 0; j < BLOCK_K; j++) {
                const float p = exp2(s[j] - mnew);   // masked keys: 2^-inf = 0
                l += p;
                #pragma unroll
                for (int d = 0; d < HEAD_DIM; d++) acc[d] = fma(p, Vs[j * HEAD_DIM + d], acc[d]);
            }
            m = mnew;
        }
    }

    barrier(CLK_LOCAL_MEM_FENCE);
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;   // no kept key: zeros
    #pragma unroll
    for (int d = 0; d < HEAD_DIM; d++) Qs[lid * QS_STRIDE + d] = acc[d] * inv;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int idx = lid; idx < BLOCK_Q * HEAD_DIM; idx += BLOCK_Q) {
        const int r = idx / HEAD_DIM, c = idx - r * HEAD_DIM;
        if (q0 + r < S) O[(q0 + r) * hidden + c] = Qs[r * QS_STRIDE + c];
    }
}
