// Transcendental activations over float arrays, compiled for several x86 ISAs in one binary.
//
// Swift compiles for baseline x86-64 (SSE2, no FMA) so that one binary runs everywhere, and it
// cannot compile a function for several instruction sets. These loops are built twice, for AVX-512
// and for AVX2+FMA (clang `target` attributes), and picked at run time from the CPU's features.
// (`target_clones` is no substitute: its `arch=` versions test the CPU model, not features, so an
// AVX-512 AMD EPYC got the baseline version, which clang does not vectorize for SSE2.) Elsewhere
// qvm_activate returns -2 and the caller uses QuiverCPU's portable Swift SIMD code, which has the
// same formulas (tail-accurate GELU via erfc, Cephes exp/tanh polynomials).
#ifndef QUIVER_CVECTORMATH_H
#define QUIVER_CVECTORMATH_H

#include <stddef.h>

/// Activation codes, as in the OpenCL kernels: 2 gelu (erf), 3 gelu (tanh), 4 sigmoid, 5 tanh.
enum { QVM_GELU = 2, QVM_GELU_TANH = 3, QVM_SIGMOID = 4, QVM_TANH = 5 };

/// out[i] = act(x[i] + addend[i]) (addend may be NULL) for i < n. out may alias x or addend.
/// Returns 0; -1 for an unknown activation code; -2 when this CPU has neither AVX-512 nor
/// AVX2+FMA (nothing written: use a portable implementation).
int qvm_activate(int activation, const float *x, const float *addend, float *out, size_t n);

/// x[i] = e^(x[i] − m) in place for i < n (the exp pass of a softmax, m = the row max) and *sum =
/// Σ x[i]. Returns 0, or -2 when the CPU has neither AVX-512 nor AVX2+FMA (nothing written).
int qvm_exp_shifted(float *x, size_t n, float m, float *sum);

/// The version qvm_activate runs on this CPU: "avx512", "avx2-fma" or "baseline" (= returns -2).
const char *qvm_variant(void);

#endif
