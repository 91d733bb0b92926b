import CVectorMath
/// Single-row kernels for the row-wise ops (one row = the last axis, `n` contiguous floats).
/// Each reads its input before writing the same position, so `out` may alias `x`.
enum RowKernels {
    /// `out = (s - mean) / sqrt(var + eps) · gamma + beta` with `s = x + residual` (or `x`).
    /// Mean and biased variance in Float, two passes plus a correction term (Σ(s - mean) is folded
    /// back into the mean as a low part), so the result stays within a few ulps of a Double
    /// computation even when |mean| ≫ std.
    static func layerNorm(_ x: UnsafePointer<Float>, residual: UnsafePointer<Float>?, gamma: UnsafePointer<Float>,
                          beta: UnsafePointer<Float>, epsilon: Float, out: UnsafeMutablePointer<Float>, n: Int) {
        let full = n & ~15, tail = n - full
        var s = x
        if let residual {
            Elementwise.apply(.identity, x, adding: residual, into: out, count: n)
            s = UnsafePointer(out)
        }
        var acc = V16()
        var i = 0
        while i < full { acc += VectorMath.load(s + i); i += 16 }
        if tail > 0 { acc += VectorMath.load(s + full, tail, fill: 0) }
        let meanHi = VectorMath.sum(acc) / Float(n)

        var dev = V16(), sq = V16()
        i = 0
        while i < full {
            let d = VectorMath.load(s + i) - meanHi
            dev += d; sq += d * d
            i += 16
        }
        if tail > 0 {
            let d = VectorMath.load(s + full, tail, fill: meanHi) - meanHi
            dev += d; sq += d * d
        }
        let devSum = VectorMath.sum(dev)
        let meanLo = devSum / Float(n)
        let variance = Swift.max((VectorMath.sum(sq) - devSum * meanLo) / Float(n), 0)
        let rstd = 1 / (variance + epsilon).squareRoot()

        i = 0
        while i < full {
            let v = (VectorMath.load(s + i) - meanHi - meanLo) * rstd
            VectorMath.store(v * VectorMath.load(gamma + i) + VectorMath.load(beta + i), out + i)
            i += 16
        }
        if tail > 0 {
            let v = (VectorMath.load(s + full, tail, fill: 0) - meanHi - meanLo) * rstd
            let g = VectorMath.load(gamma + full, tail, fill: 0), b = VectorMath.load(beta + full, tail, fill: 0)
            VectorMath.store(v * g + b, out + full, tail)
        }
    }

    /// Masked softmax of one row. `mask` (nonzero = keep) may be nil. Masked positions get 0; a row
    /// with nothing kept, or only -inf kept, becomes all zeros. Kept +inf logits share the mass.
    /// `portable` forces the Swift SIMD exp pass (the fallback on CPUs without AVX2+FMA; for tests).
    static func softmax(_ x: UnsafePointer<Float>, mask: UnsafePointer<Int32>?, out: UnsafeMutablePointer<Float>, n: Int,
                        portable: Bool = false) {
        let inv = unnormalizedSoftmax(x, mask: mask, out: out, n: n, portable: portable)
        guard inv != 1 else { return }
        let full = n & ~15
        var i = 0
        while i < full { VectorMath.store(VectorMath.load(out + i) * inv, out + i); i += 16 }
        for j in full..<n { out[j] *= inv }
    }

    /// Softmax of one row without the final division: `out[j] = e^(x[j] - max)` for kept j, 0 for
    /// masked j. Returns the factor 1/Σ that turns `out`, or anything linear in it (attention's
    /// `out·V`), into the softmax. Rows where that does not apply are finished here and return 1:
    /// nothing kept or only -inf kept gives zeros; kept +inf logits share the mass.
    /// Pass 1 finds the max and writes the masked logits (-inf where masked) to `out`; without a
    /// mask and with `out == x` it only reads. The exp pass then needs no mask.
    static func unnormalizedSoftmax(_ x: UnsafePointer<Float>, mask: UnsafePointer<Int32>?, out: UnsafeMutablePointer<Float>,
                                    n: Int, portable: Bool = false) -> Float {
        let full = n & ~15, tail = n - full
        let negInf = -Float.infinity
        var vmax = V16(repeating: negInf)
        var i = 0
        if let mask {
            while i < full {
                let v = VectorMath.select(VectorMath.load(x + i), keep: VectorMath.keep(VectorMath.load(mask + i)), else: negInf)
                VectorMath.store(v, out + i)
                vmax.replace(with: v, where: v .> vmax)
                i += 16
            }
            for j in full..<n { out[j] = mask[j] == 0 ? negInf : x[j] }
        } else if x == UnsafePointer(out) {
            while i < full {
                let v = VectorMath.load(x + i)
                vmax.replace(with: v, where: v .> vmax)
                i += 16
            }
        } else {
            while i < full {
                let v = VectorMath.load(x + i)
                VectorMath.store(v, out + i)
                vmax.replace(with: v, where: v .> vmax)
                i += 16
            }
            for j in full..<n { out[j] = x[j] }
        }
        var m = VectorMath.max(vmax)
        for j in full..<n where out[j] > m { m = out[j] }

        if m == negInf {
            out.update(repeating: 0, count: n)
            return 1
        }
        if m == .infinity {
            // Only the kept +inf logits share the probability (the limit of softmax).
            var count = 0
            for j in 0..<n where out[j] == .infinity { count += 1 }
            let p = 1 / Float(count)
            for j in 0..<n { out[j] = out[j] == .infinity ? p : 0 }
            return 1
        }
        // The exp pass runs in CVectorMath (AVX-512 / AVX2+FMA) where the CPU allows.
        var total: Float = 0
        if portable || qvm_exp_shifted(out, n, m, &total) != 0 {
            var vsum = V16()
            i = 0
            while i < full {
                let e = VectorMath.exp(VectorMath.load(out + i) - m)
                VectorMath.store(e, out + i)
                vsum += e
                i += 16
            }
            if tail > 0 {
                let e = VectorMath.exp(VectorMath.load(out + full, tail, fill: negInf) - m)
                VectorMath.store(e, out + full, tail)
                vsum += e
            }
            total = VectorMath.sum(vsum)
        }
        return 1 / total
    }

    /// `out = x / max(‖x‖₂, 1e-12)`; rows whose squares overflow are rescaled first.
    static func l2Normalize(_ x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, n: Int) {
        let full = n & ~15, tail = n - full
        var acc = V16()
        var i = 0
        while i < full { let v = VectorMath.load(x + i); acc += v * v; i += 16 }
        if tail > 0 { let v = VectorMath.load(x + full, tail, fill: 0); acc += v * v }
        var norm = VectorMath.sum(acc).squareRoot()
        if norm.isInfinite {
            // Squares overflowed: ‖x‖ = a·‖x/a‖ with a = max |x|.
            var a: Float = 0
            for j in 0..<n { a = Swift.max(a, x[j].magnitude) }
            if a.isFinite {
                var s: Float = 0
                for j in 0..<n { let v = x[j] / a; s += v * v }
                norm = a * s.squareRoot()
            }
        }
        let scale = 1 / Swift.max(norm, 1e-12)
        i = 0
        while i < full { VectorMath.store(VectorMath.load(x + i) * scale, out + i); i += 16 }
        for j in full..<n { out[j] = x[j] * scale }
    }
}
