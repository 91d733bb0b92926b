/// Float64 brute-force top-k and the tie-rule comparison every top-k test uses.
public enum TopKReference {
    /// One ranked entry: a catalog row and its score.
    public struct Entry: Equatable, Sendable {
        public var row: Int
        public var score: Double
        public init(row: Int, score: Double) { self.row = row; self.score = score }
    }

    /// The tie rule: higher score first, then lower row.
    public static func ranks(_ a: Entry, before b: Entry) -> Bool {
        a.score > b.score || (a.score == b.score && a.row < b.row)
    }

    /// Every item ranked per query by `score(q, t) = (queries[q] · items[t]) · scale[t] + bias[t]`,
    /// rows numbered from `firstRow`, leaving out `excluded[q]`. queries `[Q, D]`, items `[T, D]`.
    /// Take `prefix(k)` for the exact top-k.
    public static func ranking(queries: [Double], items: [Double], d: Int, scale: [Double]? = nil,
                               bias: [Double]? = nil, firstRow: Int = 0, excluded: [[Int]]? = nil) -> [[Entry]] {
        let q = queries.count / max(d, 1), t = items.count / max(d, 1)
        return (0..<q).map { qi in
            let skip = Set(excluded?[qi] ?? [])
            var all: [Entry] = []
            for ti in 0..<t where !skip.contains(firstRow + ti) {
                var dot = 0.0
                for c in 0..<d { dot += queries[qi * d + c] * items[ti * d + c] }
                all.append(Entry(row: firstRow + ti, score: dot * (scale?[ti] ?? 1) + (bias?[ti] ?? 0)))
            }
            return all.sorted(by: ranks)
        }
    }

    /// Checks one query's computed list (`rows`, `scores`: `[k]`, row −1 = empty) against the
    /// reference `ranking` of that query; returns what is wrong, or nil when it agrees:
    /// - min(k, items) real entries, then empty slots; rows distinct; tie-rule order;
    /// - every score within `tolerance` of the reference score at that rank and of the reference
    ///   score of the row itself (a wrong row cannot hide behind a similar score);
    /// - rows equal the reference rows rank by rank, except that rows may permute inside a group
    ///   of reference scores closer than `tolerance` (float32 may order near-ties differently),
    ///   and the last group may hold any rows scoring within `tolerance` of it. Exactly equal
    ///   reference scores (duplicate rows) must still come out lowest row first.
    public static func mismatch(rows: [Int32], scores: [Float], ranking: [Entry], k: Int, tolerance: Double) -> String? {
        let n = min(k, ranking.count)
        let expected = Array(ranking.prefix(n))
        let real = zip(rows, scores).filter { $0.0 >= 0 }.map { Entry(row: Int($0.0), score: Double($0.1)) }
        guard rows.count == k, real.count == n, rows.dropFirst(n).allSatisfy({ $0 < 0 }) else {
            return "got \(real.count) entries in \(rows.count) slots (\(Array(rows.prefix(8)))…), expected \(n) of \(k)"
        }
        guard Set(real.map(\.row)).count == n else { return "duplicate rows in \(real.map(\.row))" }
        for i in 1..<max(n, 1) where ranks(real[i], before: real[i - 1]) {
            return "not in tie-rule order at rank \(i): \(real[i - 1]) then \(real[i])"
        }
        let truth = Dictionary(uniqueKeysWithValues: ranking.map { ($0.row, $0.score) })
        for i in 0..<n {
            guard let own = truth[real[i].row] else { return "rank \(i): row \(real[i].row) is not a candidate (excluded or out of range)" }
            if abs(real[i].score - expected[i].score) > tolerance || abs(real[i].score - own) > tolerance {
                return "rank \(i): row \(real[i].row) score \(real[i].score) (its reference \(own)); reference rank \(i) is row \(expected[i].row) with \(expected[i].score)"
            }
        }
        var i = 0
        while i < n {
            var j = i + 1
            while j < n, expected[j - 1].score - expected[j].score <= tolerance { j += 1 }
            let got = Set(real[i..<j].map(\.row)), want = Set(expected[i..<j].map(\.row))
            if got != want {
                // Only the last group may trade members with items just below rank k, and only
                // near-ties: a missing row must not clearly beat a returned one, nor tie it
                // exactly with a lower row number (the tie rule keeps the lower row).
                let missing = want.subtracting(got), extra = got.subtracting(want)
                let floor = expected[j - 1].score - tolerance
                var tailOK = j == n && extra.allSatisfy { (truth[$0] ?? -.infinity) >= floor }
                for m in missing {
                    for r in extra {
                        let (sm, sr) = (truth[m] ?? -.infinity, truth[r] ?? -.infinity)
                        if sm > sr + tolerance || (sm == sr && m < r) { tailOK = false }
                    }
                }
                if !tailOK { return "ranks \(i)..<\(j): rows \(real[i..<j].map(\.row)), reference \(expected[i..<j].map(\.row))" }
            }
            i = j
        }
        // Exact ties: rows with equal reference scores, both returned, must be in row order.
        let position = Dictionary(uniqueKeysWithValues: real.enumerated().map { ($1.row, $0) })
        for (a, b) in zip(expected, expected.dropFirst()) where a.score == b.score {
            if let pa = position[a.row], let pb = position[b.row], pa > pb {
                return "rows \(a.row) and \(b.row) tie at \(a.score) but come out in the wrong order"
            }
        }
        return nil
    }
}
