import Foundation
import QuiverCore

/// Float64 reference implementations of the backend ops, written as plain loops.
enum Ref {
    static func act(_ x: Double, _ a: Activation) -> Double {
        switch a {
        case .identity: x
        case .relu: max(x, 0)
        case .gelu: 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        case .geluTanh: 0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        case .sigmoid: 1 / (1 + exp(-x))
        case .tanh: Foundation.tanh(x)
        }
    }

    /// c[M,N] = act(a[M,K] · op(b) + bias); b is [K,N] or [N,K] when transposeB.
    static func gemm(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transposeB: Bool, bias: [Float]?,
                     _ activation: Activation) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    s += Double(a[i * k + p]) * Double(transposeB ? b[j * k + p] : b[p * n + j])
                }
                c[i * n + j] = act(s + (bias.map { Double($0[j]) } ?? 0), activation)
            }
        }
        return c
    }

    static func layerNorm(_ x: [Float], residual: [Float]?, gamma: [Float], beta: [Float], h: Int, eps: Double) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        let rows = h == 0 ? 0 : x.count / h
        for r in 0..<rows {
            var v = [Double](repeating: 0, count: h)
            for i in 0..<h {
                let extra: Double = residual == nil ? 0 : Double(residual![r * h + i])
                v[i] = Double(x[r * h + i]) + extra
            }
            let mean: Double = v.reduce(0, +) / Double(h)
            var variance = 0.0
            for e in v { variance += (e - mean) * (e - mean) }
            variance /= Double(h)
            let inv: Double = 1 / (variance + eps).squareRoot()
            for i in 0..<h {
                let y: Double = (v[i] - mean) * inv
                out[r * h + i] = y * Double(gamma[i]) + Double(beta[i])
            }
        }
        return out
    }

    /// Softmax over rows of n; row r uses mask row r / rowsPerBatch.
    static func softmax(_ x: [Float], mask: [Int32]?, n: Int, rowsPerBatch: Int) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        for r in 0..<(x.count / n) {
            let keep = (0..<n).map { mask == nil || mask![(r / rowsPerBatch) * n + $0] != 0 }
            let kept = (0..<n).filter { keep[$0] }.map { Double(x[r * n + $0]) }
            guard let mx = kept.max(), mx != -.infinity else { continue }
            let sum = kept.map { exp($0 - mx) }.reduce(0, +)
            for i in 0..<n where keep[i] { out[r * n + i] = exp(Double(x[r * n + i]) - mx) / sum }
        }
        return out
    }

    /// q, k, v: [B, S, heads·D]; mask [B, S].
    static func attention(q: [Float], k: [Float], v: [Float], mask: [Int32], b: Int, s: Int, heads: Int, d: Int,
                          scale: Double) -> [Double] {
        let hidden = heads * d
        var out = [Double](repeating: 0, count: b * s * hidden)
        for bi in 0..<b {
            for h in 0..<heads {
                for i in 0..<s {
                    var scores = [Double](repeating: -.infinity, count: s)
                    for t in 0..<s where mask[bi * s + t] != 0 {
                        var dot = 0.0
                        for e in 0..<d {
                            dot += Double(q[(bi * s + i) * hidden + h * d + e]) * Double(k[(bi * s + t) * hidden + h * d + e])
                        }
                        scores[t] = dot * scale
                    }
                    guard let mx = scores.max(), mx != -.infinity else { continue }
                    let w = scores.map { exp($0 - mx) }
                    let sum = w.reduce(0, +)
                    for e in 0..<d {
                        var acc = 0.0
                        for t in 0..<s { acc += w[t] * Double(v[(bi * s + t) * hidden + h * d + e]) }
                        out[(bi * s + i) * hidden + h * d + e] = acc / sum
                    }
                }
            }
        }
        return out
    }

    static func pool(_ x: [Float], mask: [Int32], b: Int, s: Int, h: Int, mode: PoolingMode) -> [Double] {
        var out = [Double](repeating: 0, count: b * h)
        for bi in 0..<b {
            for j in 0..<h {
                switch mode {
                case .cls:
                    out[bi * h + j] = s > 0 ? Double(x[bi * s * h + j]) : 0
                case .mean:
                    var sum = 0.0, count = 0.0
                    for t in 0..<s where mask[bi * s + t] != 0 {
                        sum += Double(x[(bi * s + t) * h + j])
                        count += 1
                    }
                    out[bi * h + j] = sum / max(count, 1e-9)
                }
            }
        }
        return out
    }

    static func l2Normalize(_ x: [Float], h: Int) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        for r in 0..<(x.count / h) {
            let norm = (0..<h).map { Double(x[r * h + $0]) * Double(x[r * h + $0]) }.reduce(0, +).squareRoot()
            for i in 0..<h { out[r * h + i] = Double(x[r * h + i]) / max(norm, 1e-12) }
        }
        return out
    }
}
