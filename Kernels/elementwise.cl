// elementwise.cl — memory-bound elementwise ops, f32 arithmetic, f16 as storage only.
//
// Every kernel takes each buffer plus a 64-bit element offset (tensors split across several
// buffers are processed piece by piece) and a 32-bit element count n < 2^31. Work-items walk the
// range with a grid stride, so the host can cap the number of work-groups; the global size is a
// multiple of the local size and indices are bounds-checked.

// Activation codes, shared with gemm.cl (keep the two copies identical):
// 0 identity, 1 relu, 2 gelu (erf), 3 gelu (tanh approximation), 4 sigmoid, 5 tanh.
inline float apply_act(const int act, const float x) {
    switch (act) {
    case 1: return x < 0.0f ? 0.0f : x;
    case 2: return 0.5f * x * (1.0f + erf(x * 0.70710678118654752f));
    case 3: return 0.5f * x * (1.0f + tanh(0.79788456080286536f * fma(0.044715f * x, x * x, x)));
    case 4: return 1.0f / (1.0f + exp(-x));
    case 5: return tanh(x);
    default: return x;
    }
}

// out = a + b
__kernel void add_f32(__global const float *a, const ulong a_off,
                      __global const float *b, const ulong b_off,
                      __global float *out, const ulong out_off, const int n) {
    a += a_off; b += b_off; out += out_off;
    for (int i = get_global_id(0); i < n; i += get_global_size(0)) {
        out[i] = a[i] + b[i];
    }
}

// out = act(x), act a runtime code (memory-bound, so the switch costs nothing measurable).
__kernel void activate_f32(__global const float *x, const ulong x_off,
                           __global float *out, const ulong out_off, const int n, const int act) {
    x += x_off; out += out_off;
    for (int i = get_global_id(0); i < n; i += get_global_size(0)) {
        out[i] = apply_act(act, x[i]);
    }
}

// f32 -> f16, round to nearest even (vstore_half alone rounds toward zero).
__kernel void f32_to_f16(__global const float *x, const ulong x_off,
                         __global half *out, const ulong out_off, const int n) {
    x += x_off;
    for (int i = get_global_id(0); i < n; i += get_global_size(0)) {
        vstore_half_rte(x[i], (size_t)out_off + (size_t)i, out);
    }
}

// f16 -> f32 (exact).
__kernel void f16_to_f32(__global const half *x, const ulong x_off,
                         __global float *out, const ulong out_off, const int n) {
    out += out_off;
    for (int i = get_global_id(0); i < n; i += get_global_size(0)) {
        out[i] = vload_half((size_t)x_off + (size_t)i, x);
    }
}
