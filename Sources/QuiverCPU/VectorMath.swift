/// 16-lane float math for the elementwise and row-wise loops: exp, erfc, tanh, GELU as polynomials
/// (no libm call per element), plus loads and stores of full or partial vectors.
/// Accuracy (checked in QuiverCPUTests against glibc in Double): a few float ulps.
typealias V16 = SIMD16<Float>
typealias M16 = SIMD16<Int32>

enum VectorMath {
    // MARK: loads and stores

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V16 {
        UnsafeRawPointer(p).loadUnaligned(as: V16.self)
    }

    @inline(__always) static func load(_ p: UnsafePointer<Int32>) -> M16 {
        UnsafeRawPointer(p).loadUnaligned(as: M16.self)
    }

    @inline(__always) static func store(_ v: V16, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self)
    }

    /// The first `n` (< 16) elements at `p`, the other lanes set to `fill`.
    @inline(__always) static func load(_ p: UnsafePointer<Float>, _ n: Int, fill: Float) -> V16 {
        var v = V16(repeating: fill)
        for i in 0..<n { v[i] = p[i] }
        return v
    }

    /// The first `n` (< 16) elements at `p`, the other lanes 0.
    @inline(__always) static func load(_ p: UnsafePointer<Int32>, _ n: Int) -> M16 {
        var v = M16(repeating: 0)
        for i in 0..<n { v[i] = p[i] }
        return v
    }

    /// Stores the first `n` (< 16) lanes of `v` at `p`.
    @inline(__always) static func store(_ v: V16, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
        for i in 0..<n { p[i] = v[i] }
    }

    // MARK: bit tricks

    /// All-ones lanes where the i32 mask `m` is nonzero, zero lanes elsewhere. (`m .== 0` compiles
    /// to a per-lane scalar loop; this sign-bit trick stays in vector registers.)
    @inline(__always) static func keep(_ m: M16) -> M16 {
        (m | (M16(repeating: 0) &- m)) &>> 31
    }

    /// `v` in lanes where `keep` is all ones, `fill` elsewhere.
    @inline(__always) static func select(_ v: V16, keep: M16, else fill: Float) -> V16 {
        let bits = (unsafeBitCast(v, to: M16.self) & keep) | (unsafeBitCast(V16(repeating: fill), to: M16.self) & ~keep)
        return unsafeBitCast(bits, to: V16.self)
    }

    @inline(__always) static func abs(_ x: V16) -> V16 {
        unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: V16.self)
    }

    /// `magnitude` with the sign of `sign`.
    @inline(__always) static func copySign(_ magnitude: V16, _ sign: V16) -> V16 {
        let m = unsafeBitCast(magnitude, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF
        let s = unsafeBitCast(sign, to: SIMD16<UInt32>.self) & 0x8000_0000
        return unsafeBitCast(m | s, to: V16.self)
    }

    // MARK: functions

    /// e^x. Cephes `expf` polynomial on x = n·ln2 + r, |r| ≤ ln2/2; 2^n is built from exponent bits
    /// in two halves so the scale stays exact up to FLT_MAX. Results that would be subnormal
    /// (x < -87, e^x < 1.7e-38) are flushed to 0: computing them costs a microcode assist per lane,
    /// which made masked softmax rows 5x slower. Above ln(FLT_MAX) gives +inf, NaN stays NaN.
    @inline(__always) static func exp(_ x: V16) -> V16 {
        let lo: Float = -87, hi: Float = 88.72283
        // (`clamped` and `pointwiseMin` compile to per-lane scalar code; compare + select vectorizes.)
        var xc = x.replacing(with: lo, where: x .< lo)
        xc.replace(with: hi, where: xc .> hi)
        // Round x·log2(e) to the nearest integer n with the 1.5·2^23 trick (SSE2 has no rounding
        // instruction); the integer then sits in the low bits of t.
        let magic: Float = 12_582_912
        let t = xc * 1.442695040888963 + magic
        let n = t - magic
        var r = xc - n * 0.693359375
        r = r + n * 2.12194440e-4
        var p = r * 1.9875691500e-4 + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * (r * r) + r + 1
        let ni = unsafeBitCast(t, to: M16.self) &- 0x4B40_0000
        let half = ni &>> 1
        let scale1 = unsafeBitCast((half &+ 127) &<< 23, to: V16.self)
        let scale2 = unsafeBitCast((ni &- half &+ 127) &<< 23, to: V16.self)
        var result = p * scale1 * scale2
        result.replace(with: 0, where: x .< lo)
        result.replace(with: .infinity, where: x .> hi)
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// erfc(z) for z ≥ 0: Numerical Recipes' Chebyshev fit `t·exp(-z² + P(t))`, t = 1/(1 + z/2),
    /// relative error ≈ 1e-7 in exact arithmetic for all z ≥ 0 (a few 1e-7 more from f32 rounding
    /// of z²); 0 at +inf. Relative accuracy in the tail is what makes `gelu` exact-ish for x ≪ 0.
    @inline(__always) static func erfc(_ z: V16) -> V16 {
        let t = 1 / (1 + 0.5 * z)
        var p = t * 0.17087277 + -0.82215223
        p = p * t + 1.48851587
        p = p * t + -1.13520398
        p = p * t + 0.27886807
        p = p * t + -0.18628806
        p = p * t + 0.09678418
        p = p * t + 0.37409196
        p = p * t + 1.00002368
        p = p * t + -1.26551223
        return t * exp(p - z * z)
    }

    /// GELU, exact form x·½(1 + erf(x/√2)), computed as x·(1 - ½erfc(x/√2)) for x ≥ 0 and
    /// x·½erfc(|x|/√2) for x < 0, so there is no cancellation in 1 + erf for negative x.
    @inline(__always) static func gelu(_ x: V16) -> V16 {
        let half = 0.5 * erfc(abs(x) * 0.7071067811865476)
        var factor = 1 - half
        factor.replace(with: half, where: x .< 0)
        return x * factor
    }

    /// GELU, tanh form ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³), computed as x / (1 + e^{-2u})
    /// (the same function: 1 + tanh(u) = 2·sigmoid(2u)), which has no cancellation for x ≪ 0.
    @inline(__always) static func geluTanh(_ x: V16) -> V16 {
        let u = 0.7978845608028654 * (x + 0.044715 * (x * x * x))
        return x / (1 + exp(-(u + u)))
    }

    /// tanh(x): Cephes `tanhf`: odd polynomial for |x| ≤ 0.625, 1 - 2/(e^{2|x|} + 1) beyond.
    @inline(__always) static func tanh(_ x: V16) -> V16 {
        let ax = abs(x)
        let e = exp(ax + ax)
        let large = copySign(1 - 2 / (e + 1), x)
        let z = x * x
        var p = z * -5.70498872745e-3 + 2.06390887954e-2
        p = p * z + -5.37397155531e-2
        p = p * z + 1.33314422036e-1
        p = p * z + -3.33332819422e-1
        let small = p * z * x + x
        var result = large
        result.replace(with: small, where: ax .<= 0.625)
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// 1 / (1 + e^-x).
    @inline(__always) static func sigmoid(_ x: V16) -> V16 {
        1 / (1 + exp(-x))
    }

    /// Lane sum, in a tree (better rounding than a running sum).
    @inline(__always) static func sum(_ v: V16) -> Float {
        let a = v.lowHalf + v.highHalf
        let b = a.lowHalf + a.highHalf
        let c = b.lowHalf + b.highHalf
        return c[0] + c[1]
    }

    @inline(__always) static func max(_ v: V16) -> Float {
        let a = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .> v.lowHalf)
        let b = a.lowHalf.replacing(with: a.highHalf, where: a.highHalf .> a.lowHalf)
        let c = b.lowHalf.replacing(with: b.highHalf, where: b.highHalf .> b.lowHalf)
        return Swift.max(c[0], c[1])
    }
}
