import Foundation

/// Float64 reference implementations of every backend op, written as the plain textbook loops
/// (no shared code with the backends). Inputs and outputs are row-major `[Double]`.
public enum Reference {
    /// c[m,n] = act(Σ_k a[m,k]·op(b)[k,n] + bias[n]); b is [k,n] or, with transposeB, [n,k].
    public static func gemm(_ a: [Double], _ b: [Double], m: Int, n: Int, k: Int, transposeB: Bool,
                            bias: [Double]?, activation: String) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k { sum += a[i * k + p] * (transposeB ? b[j * k + p] : b[p * n + j]) }
                c[i * n + j] = activate(sum + (bias?[j] ?? 0), activation)
            }
        }
        return c
    }

    /// Σ_k |a[m,k]|·|op(b)[k,n]|: the scale a float32 sum's rounding error is proportional to.
    public static func gemmMagnitude(_ a: [Double], _ b: [Double], m: Int, n: Int, k: Int, transposeB: Bool) -> [Double] {
        gemm(a.map(abs), b.map(abs), m: m, n: n, k: k, transposeB: transposeB, bias: nil, activation: "identity")
    }

    /// The activation `name` (an `Activation` raw value) at x. GELU is written with erfc, and
    /// tanh-GELU switches to its sigmoid form 2/(1 + e^(−2u)) = 1 + tanh(u) for u ≤ −10: both equal
    /// the textbook formulas, but 1 + erf and 1 + tanh cancel for x ≪ 0 (even in Double), and these
    /// forms keep the reference's relative accuracy there.
    public static func activate(_ x: Double, _ name: String) -> Double {
        switch name {
        case "identity": return x
        case "relu": return max(x, 0)
        case "gelu": return 0.5 * x * erfc(-x / 2.0.squareRoot())
        case "gelu_tanh":
            let u = (2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)
            return u > -10 ? 0.5 * x * (1 + tanh(u)) : x / (1 + exp(-2 * u))
        case "sigmoid": return 1 / (1 + exp(-x))
        case "tanh": return tanh(x)
        default: return .nan
        }
    }

    /// LayerNorm over rows of length h, of x (+ residual).
    public static func layerNorm(_ x: [Double], residual: [Double]?, gamma: [Double], beta: [Double],
                                 epsilon: Double, h: Int) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        for r in 0..<(h == 0 ? 0 : x.count / h) {
            let row = (0..<h).map { x[r * h + $0] + (residual?[r * h + $0] ?? 0) }
            let mean = row.reduce(0, +) / Double(h)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(h)
            let inv = 1 / (variance + epsilon).squareRoot()
            for j in 0..<h { out[r * h + j] = (row[j] - mean) * inv * gamma[j] + beta[j] }
        }
        return out
    }

    /// Softmax over the last axis n of x viewed as [b, r, n]; mask [b, n] (nonzero keeps).
    public static func softmax(_ x: [Double], mask: [Int32]?, b: Int, r: Int, n: Int) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        for bi in 0..<b {
            for ri in 0..<r {
                let base = (bi * r + ri) * n
                let kept = (0..<n).filter { (mask?[bi * n + $0] ?? 1) != 0 && x[base + $0] > -Double.infinity }
                guard let top = kept.map({ x[base + $0] }).max() else { continue }
                let e = kept.map { exp(x[base + $0] - top) }
                let total = e.reduce(0, +)
                for (i, col) in kept.enumerated() { out[base + col] = e[i] / total }
            }
        }
        return out
    }

    /// Multi-head attention; q, k, v, out: [b, s, heads·d]; mask [b, s].
    public static func attention(q: [Double], k: [Double], v: [Double], mask: [Int32], b: Int, s: Int,
                                 heads: Int, d: Int, scale: Double) -> [Double] {
        let hidden = heads * d
        var out = [Double](repeating: 0, count: b * s * hidden)
        for bi in 0..<b {
            let kept = (0..<s).filter { mask[bi * s + $0] != 0 }
            for h in 0..<heads {
                for i in 0..<s {
                    let scores = kept.map { t in
                        (0..<d).reduce(0.0) { $0 + q[(bi * s + i) * hidden + h * d + $1] * k[(bi * s + t) * hidden + h * d + $1] } * scale
                    }
                    guard let top = scores.max() else { continue }
                    let e = scores.map { exp($0 - top) }
                    let total = e.reduce(0, +)
                    for j in 0..<d {
                        var acc = 0.0
                        for (idx, t) in kept.enumerated() { acc += e[idx] / total * v[(bi * s + t) * hidden + h * d + j] }
                        out[(bi * s + i) * hidden + h * d + j] = acc
                    }
                }
            }
        }
        return out
    }

    /// Mean (Σ kept x / max(kept count, 1e-9), where a position is kept when its mask is nonzero,
    /// whatever the value) or CLS pooling of x [b, s, h].
    public static func pool(_ x: [Double], mask: [Int32], b: Int, s: Int, h: Int, mode: String) -> [Double] {
        var out = [Double](repeating: 0, count: b * h)
        for bi in 0..<b {
            if mode == "cls" {
                if s > 0 { for j in 0..<h { out[bi * h + j] = x[bi * s * h + j] } }
                continue
            }
            let kept = (0..<s).filter { mask[bi * s + $0] != 0 }
            let count = Double(kept.count)
            for j in 0..<h {
                var sum = 0.0
                for t in kept { sum += x[(bi * s + t) * h + j] }
                out[bi * h + j] = sum / max(count, 1e-9)
            }
        }
        return out
    }

    /// Rows of length h divided by max(‖row‖, 1e-12).
    public static func l2Normalize(_ x: [Double], h: Int) -> [Double] {
        var out = x
        for r in 0..<(h == 0 ? 0 : x.count / h) {
            let norm = (0..<h).reduce(0.0) { $0 + x[r * h + $1] * x[r * h + $1] }.squareRoot()
            for j in 0..<h { out[r * h + j] = x[r * h + j] / max(norm, 1e-12) }
        }
        return out
    }
}
