import QuiverScoring

/// Top-k lists of a query block as plain arrays: `[queries, k]` catalog rows and scores, best
/// first (row −1 = empty slot). The form the GPU suite compares and its test seam alters.
public struct RankedLists: Sendable, Equatable {
    public var k: Int
    public var rows: [Int32]
    public var scores: [Float]

    public init(k: Int, rows: [Int32], scores: [Float]) {
        (self.k, self.rows, self.scores) = (k, rows, scores)
    }

    public init(_ result: TopKResult) {
        self.init(k: result.k, rows: result.rows, scores: result.scores)
    }

    public var queries: Int { k == 0 ? 0 : rows.count / k }
}

/// The outcome of comparing a device's top-k lists with the CPU backend's.
public struct TopKComparison: Codable, Sendable, Equatable {
    /// Queries compared.
    public var queries: Int
    /// Result ids compared (queries × k).
    public var entries: Int
    /// Compared positions whose catalog row differs.
    public var mismatches: Int
    /// The first differing position, in words; nil when none differs.
    public var firstMismatch: String?
    /// Largest |device score − CPU score| over positions with the same row.
    public var maxScoreDifference: Double

    /// Something was compared and every id matched.
    public var passed: Bool { entries > 0 && mismatches == 0 }

    public init(queries: Int = 0, entries: Int = 0, mismatches: Int = 0, firstMismatch: String? = nil, maxScoreDifference: Double = 0) {
        (self.queries, self.entries, self.mismatches, self.firstMismatch, self.maxScoreDifference) =
            (queries, entries, mismatches, firstMismatch, maxScoreDifference)
    }
}

/// Exact comparison of top-k lists: the ids at every rank must be equal.
///
/// Both backends rank by the tie rule (higher score first, then lower row), so the top-k of a
/// list is the first k entries of its top-k′ for any k′ ≥ k: one CPU reference at the largest k
/// checks every smaller k.
public enum TopKVerifier {
    /// Compares the first `queries` lists of `device` (k = `device.k`) with the first
    /// `device.k` entries of the same lists in `reference` (which needs k ≥ `device.k` and at
    /// least that many queries).
    public static func compare(device: RankedLists, reference: RankedLists, queries: Int) -> TopKComparison {
        let k = device.k
        let n = min(queries, device.queries, reference.queries)
        guard k <= reference.k, n > 0 else {
            return TopKComparison(firstMismatch: "nothing to compare: device k \(k) over \(device.queries) queries, reference k \(reference.k) over \(reference.queries)")
        }
        var result = TopKComparison(queries: n, entries: n * k)
        for q in 0..<n {
            for rank in 0..<k {
                let (dRow, dScore) = (device.rows[q * k + rank], device.scores[q * k + rank])
                let (rRow, rScore) = (reference.rows[q * reference.k + rank], reference.scores[q * reference.k + rank])
                if dRow != rRow {
                    result.mismatches += 1
                    if result.firstMismatch == nil {
                        result.firstMismatch = "query \(q), rank \(rank): device row \(dRow) (score \(dScore)), CPU row \(rRow) (score \(rScore))"
                    }
                } else if dRow >= 0 {
                    result.maxScoreDifference = max(result.maxScoreDifference, Double(abs(dScore - rScore)))
                }
            }
        }
        return result
    }
}
