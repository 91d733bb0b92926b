/// How a query and an item are compared. Every metric is computed as one GEMM plus a per-item
/// scale and bias (`ComputeBackend.similarityTopK`), ranked "higher is better".
public enum Metric: String, Sendable, CaseIterable {
    /// Inner product q · x (FAISS `IndexFlatIP`).
    case dot
    /// Cosine similarity q · x / (‖q‖ ‖x‖); zero vectors score 0.
    case cosine
    /// Squared Euclidean distance ‖q − x‖², smallest first (FAISS `IndexFlatL2` reports the same
    /// squared distances). Ranked by 2 q·x − ‖x‖², reported as ‖q‖² − that, clamped at 0.
    case l2

    /// Per-item `(scale, bias)` vectors for the backend op, from the items' squared norms and (for
    /// int8 catalogs) their dequantization scales. nil means 1 and 0.
    func itemTerms(squaredNorms: [Float], quantScales: [Float]?) -> (scale: [Float]?, bias: [Float]?) {
        switch self {
        case .dot:
            return (quantScales, nil)
        case .cosine:
            return (squaredNorms.indices.map { i in
                let n = squaredNorms[i].squareRoot()
                return n > 0 ? (quantScales?[i] ?? 1) / n : 0
            }, nil)
        case .l2:
            return (quantScales.map { $0.map { 2 * $0 } } ?? [Float](repeating: 2, count: squaredNorms.count),
                    squaredNorms.map { -$0 })
        }
    }

    /// The score reported to the user for a ranking score `s` of a query with squared norm `qq`.
    @inline(__always)
    func reported(_ s: Float, querySquaredNorm qq: Float) -> Float {
        self == .l2 ? max(qq - s, 0) : s
    }
}
