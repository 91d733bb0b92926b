import QuiverCore

/// A kernel family `quiver tune` tunes.
public enum TuneKernel: String, Codable, CaseIterable, Sendable {
    /// gemm.cl: the encoder's linear layers.
    case gemm
    /// attention.cl: the encoder's self-attention.
    case attention
    /// topk.cl: fused similarity + top-k (score_filter + topk_merge) over catalog tiles.
    case topk
}

/// One problem the tuner times, in the units of its kernel.
public enum TuneShape: Codable, Hashable, Sendable, CustomStringConvertible {
    /// `C[m, n] = act(A[m, k] · Bᵀ + bias)`, B stored `[n, k]` (a `Linear` layer: m = tokens,
    /// k = in features, n = out features). `activation` is an `Activation` raw value.
    case gemm(m: Int, n: Int, k: Int, activation: String)
    /// Multi-head attention over `[batch, sequence, heads·headDim]` with a padding mask.
    case attention(batch: Int, sequence: Int, heads: Int, headDim: Int)
    /// Exact top-k of `queries` × `dimension` f32 queries against `items` catalog rows (inner product).
    case topK(queries: Int, items: Int, dimension: Int, k: Int)

    public var kernel: TuneKernel {
        switch self {
        case .gemm: .gemm
        case .attention: .attention
        case .topK: .topk
        }
    }

    /// Floating-point operations of one run (multiply-add = 2), for GFLOP/s.
    public var flops: Double {
        switch self {
        case let .gemm(m, n, k, _): 2 * Double(m) * Double(n) * Double(k)
        case let .attention(b, s, h, d): 4 * Double(b) * Double(h) * Double(s) * Double(s) * Double(d)
        case let .topK(q, t, d, _): 2 * Double(q) * Double(t) * Double(d)
        }
    }

    public var description: String {
        switch self {
        case let .gemm(m, n, k, act): "\(m)×\(k)→\(n)" + (act == Activation.identity.rawValue ? "" : " \(act)")
        case let .attention(b, s, h, d): "\(b)×\(s) tokens, \(h) heads × \(d)"
        case let .topK(q, t, d, k): "\(q) q × \(t) items × \(d), k=\(k)"
        }
    }

    /// The shapes Quiver runs, for all-MiniLM-L6-v2 (hidden 384, intermediate 1536, 12 heads of
    /// 32) and catalog scoring:
    /// - full: the encoder's three GEMMs at 32 × 128 tokens (with bias; the intermediate layer's
    ///   GELU epilogue is left out so each variant compiles one program, which dominates the run
    ///   time on PoCL; the epilogue does not depend on the tiles), attention at batch 32 × 128
    ///   tokens, and 64 queries against a 65536-row × 384 catalog tile at k = 10 and k = 100;
    /// - quick: one GEMM at 4 × 128 tokens, attention at 4 × 128, 64 queries × 16384 rows, k = 10.
    public static func standard(quick: Bool) -> [TuneShape] {
        if quick {
            return [.gemm(m: 512, n: 1536, k: 384, activation: Activation.gelu.rawValue),
                    .attention(batch: 4, sequence: 128, heads: 12, headDim: 32),
                    .topK(queries: 64, items: 16384, dimension: 384, k: 10)]
        }
        let tokens = 32 * 128
        return [.gemm(m: tokens, n: 384, k: 384, activation: Activation.identity.rawValue),
                .gemm(m: tokens, n: 1536, k: 384, activation: Activation.identity.rawValue),
                .gemm(m: tokens, n: 384, k: 1536, activation: Activation.identity.rawValue),
                .attention(batch: 32, sequence: 128, heads: 12, headDim: 32),
                .topK(queries: 64, items: 65536, dimension: 384, k: 10),
                .topK(queries: 64, items: 65536, dimension: 384, k: 100)]
    }
}
