// See CVectorMath.h. Plain scalar C written so clang vectorizes it (branch-free selects, no calls).
#include "CVectorMath.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float from_bits(int32_t i) { float f; memcpy(&f, &i, sizeof f); return f; }
static inline int32_t to_bits(float f) { int32_t i; memcpy(&i, &f, sizeof i); return i; }

// e^x: Cephes expf polynomial on x = n·ln2 + r, 2^n built from exponent bits in two halves (exact up
// to FLT_MAX). Results below e^-87 flush to 0 (subnormals cost a microcode assist per lane).
static inline float vm_exp(float x) {
    const float lo = -87.0f, hi = 88.72283f, magic = 12582912.0f;  // 1.5·2^23: round to integer
    float xc = x < lo ? lo : x;
    xc = xc > hi ? hi : xc;
    float t = xc * 1.442695040888963f + magic;
    float n = t - magic;
    float r = xc - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = r * 1.9875691500e-4f + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    int32_t ni = to_bits(t) - 0x4B400000;
    int32_t half = ni >> 1;
    float result = p * from_bits((half + 127) << 23) * from_bits((ni - half + 127) << 23);
    result = x < lo ? 0.0f : result;
    result = x > hi ? INFINITY : result;
    return x != x ? x : result;
}

// erfc(z) for z ≥ 0: Chebyshev fit t·exp(-z² + P(t)), t = 1/(1 + z/2), relative error ~1e-7.
static inline float vm_erfc(float z) {
    float t = 1.0f / (1.0f + 0.5f * z);
    float p = t * 0.17087277f + -0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t + -1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t + -0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t + -1.26551223f;
    return t * vm_exp(p - z * z);
}

// GELU x·Φ(x) as x·(1 − ½erfc(x/√2)) for x ≥ 0 and x·½erfc(|x|/√2) for x < 0: no cancellation.
static inline float vm_gelu(float x) {
    float half = 0.5f * vm_erfc(fabsf(x) * 0.7071067811865476f);
    return x * (x < 0.0f ? half : 1.0f - half);
}

// ½x(1 + tanh(u)) = x / (1 + e^{-2u}), u = √(2/π)(x + 0.044715x³).
static inline float vm_gelu_tanh(float x) {
    float u = 0.7978845608028654f * (x + 0.044715f * (x * x * x));
    return x / (1.0f + vm_exp(-(u + u)));
}

static inline float vm_sigmoid(float x) { return 1.0f / (1.0f + vm_exp(-x)); }

// Cephes tanhf: odd polynomial for |x| ≤ 0.625, 1 − 2/(e^{2|x|} + 1) beyond.
static inline float vm_tanh(float x) {
    float ax = fabsf(x);
    float large = copysignf(1.0f - 2.0f / (vm_exp(ax + ax) + 1.0f), x);
    float z = x * x;
    float p = z * -5.70498872745e-3f + 2.06390887954e-2f;
    p = p * z + -5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z + -3.33332819422e-1f;
    float small = p * z * x + x;
    float result = ax <= 0.625f ? small : large;
    return x != x ? x : result;
}

// out may be x or addend (the GEMM epilogue runs in place): element i is read before it is
// written and no iteration touches another's elements, so the loops are vectorized without
// LLVM's overlap check, which would otherwise send every in-place call to the scalar loop.
#define QVM_LOOP(f)                                                        \
    if (addend) {                                                          \
        _Pragma("clang loop vectorize(assume_safety)")                     \
        for (size_t i = 0; i < n; i++) out[i] = f(x[i] + addend[i]);       \
    } else {                                                               \
        _Pragma("clang loop vectorize(assume_safety)")                     \
        for (size_t i = 0; i < n; i++) out[i] = f(x[i]);                   \
    }

#define QVM_ACTIVATE_BODY                                                  \
    switch (activation) {                                                  \
    case QVM_GELU: QVM_LOOP(vm_gelu) return 0;                             \
    case QVM_GELU_TANH: QVM_LOOP(vm_gelu_tanh) return 0;                   \
    case QVM_SIGMOID: QVM_LOOP(vm_sigmoid) return 0;                       \
    case QVM_TANH: QVM_LOOP(vm_tanh) return 0;                             \
    default: return -1;                                                    \
    }

// x[i] = e^(x[i] - m) in place; returns the sum. 16 partial sums keep the reduction vectorized
// without reassociating one float accumulator (which clang will not do without fast-math).
#define QVM_EXP_SHIFTED_BODY                                               \
    _Pragma("clang loop vectorize(assume_safety)")                         \
    for (size_t i = 0; i < n; i++) x[i] = vm_exp(x[i] - m);                \
    float acc[16] = {0};                                                   \
    size_t i = 0;                                                          \
    for (; i + 16 <= n; i += 16)                                           \
        for (int j = 0; j < 16; j++) acc[j] += x[i + j];                   \
    float total = 0.0f;                                                    \
    for (int j = 0; j < 16; j++) total += acc[j];                          \
    for (; i < n; i++) total += x[i];                                      \
    *sum = total;                                                          \
    return 0;

#if defined(__x86_64__) && defined(__linux__)
// The same loops compiled for two instruction sets; the helpers above inline into each.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))
static int exp_shifted_avx512(float *x, size_t n, float m, float *sum) { QVM_EXP_SHIFTED_BODY }

__attribute__((target("avx2,fma")))
static int exp_shifted_avx2(float *x, size_t n, float m, float *sum) { QVM_EXP_SHIFTED_BODY }

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")))
static int activate_avx512(int activation, const float *x, const float *addend, float *out, size_t n) { QVM_ACTIVATE_BODY }

__attribute__((target("avx2,fma")))
static int activate_avx2(int activation, const float *x, const float *addend, float *out, size_t n) { QVM_ACTIVATE_BODY }
#endif

int qvm_activate(int activation, const float *x, const float *addend, float *out, size_t n) {
    const char *variant = qvm_variant();
#if defined(__x86_64__) && defined(__linux__)
    if (variant[1] == 'v' && variant[3] == '5') return activate_avx512(activation, x, addend, out, n);
    if (variant[1] == 'v' && variant[3] == '2') return activate_avx2(activation, x, addend, out, n);
#endif
    (void)variant;
    return -2;  // no accelerated version: the caller uses its own portable code
}

int qvm_exp_shifted(float *x, size_t n, float m, float *sum) {
    const char *variant = qvm_variant();
#if defined(__x86_64__) && defined(__linux__)
    if (variant[1] == 'v' && variant[3] == '5') return exp_shifted_avx512(x, n, m, sum);
    if (variant[1] == 'v' && variant[3] == '2') return exp_shifted_avx2(x, n, m, sum);
#endif
    (void)variant; (void)x; (void)n; (void)m; (void)sum;
    return -2;
}

static const char *detect_variant(void) {
#if defined(__x86_64__) && defined(__linux__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512dq")) return "avx512";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2-fma";
#endif
    return "baseline";
}

// Detected once: the kernels above are called per row (softmax runs ~50k rows per encoder layer).
const char *qvm_variant(void) {
    static const char *variant = NULL;  // benign race: every thread computes the same pointer
    const char *v = __atomic_load_n(&variant, __ATOMIC_RELAXED);
    if (v == NULL) {
        v = detect_variant();
        __atomic_store_n(&variant, v, __ATOMIC_RELAXED);
    }
    return v;
}
