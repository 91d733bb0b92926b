// rowwise.cl — ops that reduce over the last axis: one work-group of WG work-items per row.
//
// A work-item accumulates a strided share of the row (i = lid, lid + WG, ...: coalesced), then
// the group combines the WG partials with a tree reduction in local memory. Work-groups walk
// rows with a stride of the number of groups, so the host can cap the grid. Buffers come with
// 64-bit element offsets (split tensors are processed piece by piece); indices inside one launch
// fit 32-bit ints. Outputs may alias inputs: each element is written only by the work-item that
// read it, after every read of the row (the reductions end with a barrier).
//
// Every barrier must be reached unconditionally: no `continue`/`return` between the row loop's
// reductions, even when the condition is uniform across the group. PoCL 3.1 miscompiles a
// `continue` that skips a barrier inside such a loop (it crashed with wild writes); uniform
// results are handled with flags instead (see `empty` in softmax).

#ifndef WG
#define WG 256   // power of two; set by the host from the device limits
#endif

// Sum of v over the work-group; every work-item gets the result.
inline float group_sum(float v, __local float *scratch) {
    const int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);   // scratch is reused by the next reduction
    return r;
}

// Maximum of v over the work-group; every work-item gets the result.
inline float group_max(float v, __local float *scratch) {
    const int lid = get_local_id(0);
    scratch[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] = fmax(scratch[lid], scratch[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float r = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

// out = (v - mean) / sqrt(var + eps) * gamma + beta with v = x (+ res), over rows of H.
// Two passes (mean, then mean of squared deviations: biased variance) for accuracy.
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void layer_norm(__global const float *x, const ulong x_off,
                __global const float *res, const ulong res_off, const int has_res,
                __global const float *gamma, __global const float *beta,
                __global float *out, const ulong out_off,
                const int rows, const int H, const float eps) {
    __local float scratch[WG];
    x += x_off; res += res_off; out += out_off;
    const int lid = get_local_id(0);
    for (int row = get_group_id(0); row < rows; row += get_num_groups(0)) {
        __global const float *xr = x + row * H;
        __global const float *rr = res + row * H;
        __global float *orow = out + row * H;
        // Sum v - v0 (shifted data): rows with a large common offset (mean 50, std 1) would lose
        // ~1e-5 of the output to rounding in a plain float sum of v.
        const float v0 = has_res ? xr[0] + rr[0] : xr[0];
        float s = 0.0f;
        for (int i = lid; i < H; i += WG) s += (has_res ? xr[i] + rr[i] : xr[i]) - v0;
        const float mean = v0 + group_sum(s, scratch) / (float)H;
        float q = 0.0f;
        for (int i = lid; i < H; i += WG) {
            const float d = (has_res ? xr[i] + rr[i] : xr[i]) - mean;
            q = fma(d, d, q);
        }
        const float var = group_sum(q, scratch) / (float)H;
        const float inv = 1.0f / sqrt(var + eps);
        for (int i = lid; i < H; i += WG) {
            const float v = has_res ? xr[i] + rr[i] : xr[i];
            orow[i] = fma((v - mean) * inv, gamma[i], beta[i]);
        }
    }
}

// Softmax over rows of N. Row r of the launch uses mask row r / R (mask [B, N] broadcast over
// the R middle rows of each batch entry; the launch starts at a batch boundary). Masked entries
// get 0; a row with no kept entry, or only -inf ones, becomes all zeros.
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void softmax(__global const float *x, const ulong x_off,
             __global const int *mask, const ulong mask_off, const int has_mask,
             __global float *out, const ulong out_off,
             const int rows, const int N, const int R) {
    __local float scratch[WG];
    x += x_off; mask += mask_off; out += out_off;
    const int lid = get_local_id(0);
    for (int row = get_group_id(0); row < rows; row += get_num_groups(0)) {
        __global const float *xr = x + row * N;
        __global const int *mr = mask + (row / R) * N;
        __global float *orow = out + row * N;
        float m = -INFINITY;
        for (int i = lid; i < N; i += WG) {
            if (!has_mask || mr[i] != 0) m = fmax(m, xr[i]);
        }
        m = group_max(m, scratch);
        // No kept entry (or only -inf): zeros. `empty` is uniform across the group; the
        // reduction below still runs for everyone so barriers stay unconditional.
        const int empty = m == -INFINITY;
        float s = 0.0f;
        if (!empty) {
            for (int i = lid; i < N; i += WG) {
                if (!has_mask || mr[i] != 0) s += exp(xr[i] - m);
            }
        }
        const float inv = 1.0f / group_sum(s, scratch);
        for (int i = lid; i < N; i += WG) {
            orow[i] = (!empty && (!has_mask || mr[i] != 0)) ? exp(xr[i] - m) * inv : 0.0f;
        }
    }
}

// out = x / max(||x||_2, 1e-12) per row of H.
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void l2_normalize(__global const float *x, const ulong x_off,
                  __global float *out, const ulong out_off,
                  const int rows, const int H) {
    __local float scratch[WG];
    x += x_off; out += out_off;
    const int lid = get_local_id(0);
    for (int row = get_group_id(0); row < rows; row += get_num_groups(0)) {
        __global const float *xr = x + row * H;
        __global float *orow = out + row * H;
        float q = 0.0f;
        for (int i = lid; i < H; i += WG) q = fma(xr[i], xr[i], q);
        const float d = fmax(sqrt(group_sum(q, scratch)), 1e-12f);
        for (int i = lid; i < H; i += WG) orow[i] = xr[i] / d;
    }
}

// Mean pooling of x [B, S, H] with mask [B, S] into out [B, H], one work-group per batch entry:
// the sum over positions with mask != 0, divided by max(count, 1e-9).
__kernel __attribute__((reqd_work_group_size(WG, 1, 1)))
void pool_mean(__global const float *x, const ulong x_off,
               __global const int *mask, const ulong mask_off,
               __global float *out, const ulong out_off,
               const int batches, const int S, const int H) {
    __local float scratch[WG];
    x += x_off; mask += mask_off; out += out_off;
    const int lid = get_local_id(0);
    for (int b = get_group_id(0); b < batches; b += get_num_groups(0)) {
        __global const float *xb = x + b * S * H;
        __global const int *mb = mask + b * S;
        __global float *ob = out + b * H;
        float c = 0.0f;
        for (int s = lid; s < S; s += WG) c += mb[s] != 0 ? 1.0f : 0.0f;
        const float denom = fmax(group_sum(c, scratch), 1e-9f);
        for (int h = lid; h < H; h += WG) {
            float acc = 0.0f;
            for (int s = 0; s < S; s++) {
                if (mb[s] != 0) acc += xb[s * H + h];
            }
            ob[h] = acc / denom;
        }
    }
}

// CLS pooling: out[b, :] = x[b, 0, :] (zeros when S = 0); no reduction, any work-group shape.
__kernel void pool_cls(__global const float *x, const ulong x_off,
                       __global float *out, const ulong out_off,
                       const int batches, const int S, const int H) {
    x += x_off; out += out_off;
    const int total = batches * H;
    for (int i = get_global_id(0); i < total; i += get_global_size(0)) {
        const int b = i / H, h = i - b * H;
        out[i] = S > 0 ? x[b * S * H + h] : 0.0f;
    }
}
