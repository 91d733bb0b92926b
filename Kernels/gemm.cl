// gemm.cl — C = act(A · op(B) + bias) [+ C when beta = 1], f32, row-major.
//
//   A: M×K, row stride lda.   B: K×N (row stride ldb), or N×K when TRANS_B (op(B) = Bᵀ).
//   C: M×N, row stride ldc.   bias: N (read when HAS_BIAS).
//
// Each work-group computes a TS_M×TS_N tile of C with (TS_N/WPT_N)×(TS_M/WPT_M) work-items;
// each work-item keeps a WPT_M×WPT_N micro-tile of accumulators in registers. K advances TS_K
// at a time: the group stages a TS_M×TS_K slice of A and a TS_K×TS_N slice of op(B) in local
// memory (loads coalesced along the contiguous axis of each matrix, zero-padded outside
// M/N/K), then every work-item runs TS_K rank-1 updates of its micro-tile from local memory.
// A work-item owns rows ty + i·(TS_M/WPT_M) and columns tx + j·(TS_N/WPT_N) ("strided"
// micro-tiles), so reads of the B tile and the final stores to C are contiguous across tx.
//
// Global loads move VW (1, 2 or 4) consecutive elements along each matrix's contiguous axis per
// work-item and step (vloadVW where the whole vector lies inside the matrix, element by element at
// its edges); TS_K (and TS_N unless TRANS_B) must be multiples of VW.
//
// The host passes each buffer with a 64-bit element offset (tensors split over several buffers
// are multiplied piece by piece: row blocks of A/C, column blocks of C when TRANS_B, K blocks
// accumulated with beta = 1). Indices inside one launch fit 32-bit ints (the host bounds them).
// beta = 1 reads C before writing it; the bias/activation epilogue is compiled in (HAS_BIAS, ACT)
// and the host only enables it on the launch that completes the K sum.

#ifndef TS_M
#define TS_M 64
#endif
#ifndef TS_N
#define TS_N 64
#endif
#ifndef TS_K
#define TS_K 16
#endif
#ifndef WPT_M
#define WPT_M 4
#endif
#ifndef WPT_N
#define WPT_N 4
#endif
#ifndef VW
#define VW 1
#endif
#ifndef TRANS_B
#define TRANS_B 0
#endif
#ifndef ACT
#define ACT 0
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif

#define RTS_M (TS_M / WPT_M)        // work-items along M (local dimension 1)
#define RTS_N (TS_N / WPT_N)        // work-items along N (local dimension 0)
#define GROUP (RTS_M * RTS_N)
#define A_LOADS ((TS_M * TS_K / VW + GROUP - 1) / GROUP)
#define B_LOADS ((TS_N * TS_K / VW + GROUP - 1) / GROUP)

#if VW == 2
#define VLOAD(p) vload2(0, p)
#define VSTORE(v, p) vstore2(v, 0, p)
#elif VW == 4
#define VLOAD(p) vload4(0, p)
#define VSTORE(v, p) vstore4(v, 0, p)
#elif VW != 1
#error "VW must be 1, 2 or 4"
#endif

// out[e] = row[e] for e < VW where e < limit, else 0 (row: VW consecutive elements of one matrix row).
inline void load_run(__global const float *row, const int limit, float out[VW]) {
#if VW > 1
    if (limit >= VW) {
        VSTORE(VLOAD(row), out);
        return;
    }
#endif
    #pragma unroll
    for (int e = 0; e < VW; e++) out[e] = e < limit ? row[e] : 0.0f;
}

// Activation codes, shared with elementwise.cl (keep the two copies identical):
// 0 identity, 1 relu, 2 gelu (erf), 3 gelu (tanh approximation), 4 sigmoid, 5 tanh.
inline float apply_act(const float x) {
#if ACT == 1
    return x < 0.0f ? 0.0f : x;
#elif ACT == 2
    return 0.5f * x * (1.0f + erf(x * 0.70710678118654752f));
#elif ACT == 3
    return 0.5f * x * (1.0f + tanh(0.79788456080286536f * fma(0.044715f * x, x * x, x)));
#elif ACT == 4
    return 1.0f / (1.0f + exp(-x));
#elif ACT == 5
    return tanh(x);
#else
    return x;
#endif
}

__kernel __attribute__((reqd_work_group_size(RTS_N, RTS_M, 1)))
void gemm(const int M, const int N, const int K,
          __global const float *A, const ulong a_off, const int lda,
          __global const float *B, const ulong b_off, const int ldb,
          __global float *C, const ulong c_off, const int ldc,
          __global const float *bias, const ulong bias_off,
          const int beta) {
    // +1 padding: the transposing stores below hit distinct local-memory banks.
    __local float As[TS_K][TS_M + 1];
    __local float Bs[TS_K][TS_N + 1];

    A += a_off; B += b_off; C += c_off; bias += bias_off;
    const int tx = get_local_id(0);
    const int ty = get_local_id(1);
    const int lid = ty * RTS_N + tx;
    const int n0 = get_group_id(0) * TS_N;
    const int m0 = get_group_id(1) * TS_M;

    float acc[WPT_M][WPT_N];
    #pragma unroll
    for (int i = 0; i < WPT_M; i++) {
        #pragma unroll
        for (int j = 0; j < WPT_N; j++) acc[i][j] = 0.0f;
    }

    for (int k0 = 0; k0 < K; k0 += TS_K) {
        // A tile: consecutive work-items read consecutive runs of k of one row (coalesced), stored transposed.
        #pragma unroll
        for (int l = 0; l < A_LOADS; l++) {
            const int idx = lid + l * GROUP;
            if (idx < TS_M * TS_K / VW) {
                const int r = idx / (TS_K / VW), c = (idx % (TS_K / VW)) * VW;
                const int gm = m0 + r, gk = k0 + c;
                float v[VW];
                load_run(A + gm * lda + gk, gm < M ? K - gk : 0, v);
                #pragma unroll
                for (int e = 0; e < VW; e++) As[c + e][r] = v[e];
            }
        }
        #pragma unroll
        for (int l = 0; l < B_LOADS; l++) {
            const int idx = lid + l * GROUP;
            if (idx < TS_N * TS_K / VW) {
                float v[VW];
#if TRANS_B
                // B is N×K: consecutive work-items read consecutive runs of k of one row of B.
                const int r = idx / (TS_K / VW), c = (idx % (TS_K / VW)) * VW;
                const int gn = n0 + r, gk = k0 + c;
                load_run(B + gn * ldb + gk, gn < N ? K - gk : 0, v);
                #pragma unroll
                for (int e = 0; e < VW; e++) Bs[c + e][r] = v[e];
#else
                // B is K×N: consecutive work-items read consecutive runs of n of one row of B.
                const int r = idx / (TS_N / VW), c = (idx % (TS_N / VW)) * VW;
                const int gk = k0 + r, gn = n0 + c;
                load_run(B + gk * ldb + gn, gk < K ? N - gn : 0, v);
                #pragma unroll
                for (int e = 0; e < VW; e++) Bs[r][c + e] = v[e];
#endif
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        #pragma unroll
        for (int k = 0; k < TS_K; k++) {
            float a[WPT_M], b[WPT_N];
            #pragma unroll
            for (int i = 0; i < WPT_M; i++) a[i] = As[k][ty + i * RTS_M];
            #pragma unroll
            for (int j = 0; j < WPT_N; j++) b[j] = Bs[k][tx + j * RTS_N];
            #pragma unroll
            for (int i = 0; i < WPT_M; i++) {
                #pragma unroll
                for (int j = 0; j < WPT_N; j++) acc[i][j] = fma(a[i], b[j], acc[i][j]);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    #pragma unroll
    for (int i = 0; i < WPT_M; i++) {
        const int gm = m0 + ty + i * RTS_M;
        if (gm < M) {
            #pragma unroll
            for (int j = 0; j < WPT_N; j++) {
                const int gn = n0 + tx + j * RTS_N;
                if (gn < N) {
                    float v = acc[i][j];
                    if (beta) v += C[gm * ldc + gn];
#if HAS_BIAS
                    v += bias[gn];
#endif
                    C[gm * ldc + gn] = apply_act(v);
                }
            }
        }
    }
}
