/// What `quiver bench --suite gpu` measures and at which sizes. `preset(.full)` is the issue's
/// workload for GPU hosts; `preset(.small)` the same sections scaled down to finish in well under
/// a minute on PoCL on a 2-core CPU (CI).
public struct GPUSuitePlan: Sendable {
    public enum Size: String, Sendable, CaseIterable, Codable {
        case full, small
    }

    /// Sections that can be left out (`--sections`); device information is always collected.
    public enum Section: String, Sendable, CaseIterable, Codable {
        case gemm, scoring, encode, search
    }

    /// One GEMM `C[m, n] = A[m, k] · op(B)`, `op(B) = Bᵀ` for `B: [n, k]` when `transposeB`
    /// (how every encoder linear layer runs: Hugging Face weights are `[out, in]`).
    public struct GEMMShape: Sendable, Codable, Equatable {
        public var label: String
        public var m, n, k: Int
        public var transposeB: Bool

        public init(_ label: String, m: Int, n: Int, k: Int, transposeB: Bool) {
            (self.label, self.m, self.n, self.k, self.transposeB) = (label, m, n, k, transposeB)
        }

        /// 2·m·n·k.
        public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    }

    /// Catalog storage types of the scoring section.
    public enum Precision: String, Sendable, CaseIterable, Codable {
        case f32, f16, int8
    }

    public var size: Size
    public var sections: Set<Section>
    /// Seed of every generated catalog, query set and token sequence.
    public var seed: UInt64
    public var repeats: RepeatRule

    public var gemmShapes: [GEMMShape]

    /// Scoring: catalog rows per generated catalog, `dimension` values each.
    public var catalogRows: [Int]
    public var dimension: Int
    public var precisions: [Precision]
    /// Queries per `Scorer.search` call.
    public var batches: [Int]
    public var ks: [Int]
    /// Queries per (catalog, precision, k) whose device top-k is compared with the CPU backend's.
    public var verifyQueries: Int

    /// Encode: sentences per forward pass, each exactly `encodeTokens` tokens ([CLS] … [SEP]).
    public var encodeBatches: [Int]
    public var encodeTokens: Int

    /// Search: catalog rows behind `Engine`, results per request, warm-up and measured seconds
    /// of the one-client closed loop.
    public var searchRows: Int
    public var searchK: Int
    public var searchWarmup: Double
    public var searchDuration: Double

    public static func preset(_ size: Size, seed: UInt64 = 1) -> GPUSuitePlan {
        switch size {
        case .full:
            // Encoder GEMMs of all-MiniLM-L6-v2 (hidden 384, FFN 1536) on a 32 × 128-token batch,
            // one short query's projection, and a large square product.
            let tokens = 32 * 128
            return GPUSuitePlan(
                size: .full, sections: Set(Section.allCases), seed: seed,
                repeats: RepeatRule(minRepeats: 5, minSeconds: 0.5, maxRepeats: 200),
                gemmShapes: encoderShapes(tokens: tokens, batchLabel: "32×128 tokens") + [
                    GEMMShape("query projection, 1×16 tokens", m: 16, n: 384, k: 384, transposeB: true),
                    GEMMShape("square", m: 8192, n: 8192, k: 8192, transposeB: false),
                ],
                catalogRows: [1_000_000, 10_000_000], dimension: 384, precisions: Precision.allCases,
                batches: [1, 8, 64, 512], ks: [10, 100], verifyQueries: 16,
                encodeBatches: [1, 32, 256], encodeTokens: 128,
                searchRows: 1_000_000, searchK: 10, searchWarmup: 1, searchDuration: 10)
        case .small:
            return GPUSuitePlan(
                size: .small, sections: Set(Section.allCases), seed: seed,
                repeats: RepeatRule(minRepeats: 1, minSeconds: 0, maxRepeats: 1),
                gemmShapes: encoderShapes(tokens: 4 * 32, batchLabel: "4×32 tokens") + [
                    GEMMShape("query projection, 1×16 tokens", m: 16, n: 384, k: 384, transposeB: true),
                    GEMMShape("square", m: 512, n: 512, k: 512, transposeB: false),
                ],
                catalogRows: [2_048, 8_192], dimension: 384, precisions: Precision.allCases,
                batches: [1, 8, 64, 512], ks: [10, 100], verifyQueries: 4,
                encodeBatches: [1, 8, 32], encodeTokens: 16,
                searchRows: 8_192, searchK: 10, searchWarmup: 0.2, searchDuration: 1)
        }
    }

    /// The four linear layers of a BERT layer with hidden 384 and FFN 1536 on `tokens` rows.
    static func encoderShapes(tokens: Int, batchLabel: String) -> [GEMMShape] {
        [
            GEMMShape("attention q/k/v/out, \(batchLabel)", m: tokens, n: 384, k: 384, transposeB: true),
            GEMMShape("FFN up, \(batchLabel)", m: tokens, n: 1536, k: 384, transposeB: true),
            GEMMShape("FFN down, \(batchLabel)", m: tokens, n: 384, k: 1536, transposeB: true),
        ]
    }
}
