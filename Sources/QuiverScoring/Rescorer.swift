import Dispatch
import QuiverCore

/// Exact fp32 rescoring of a shortlist found on a reduced-precision catalog, with a certificate.
///
/// Every approximate score â of an item is within Δ of its exact score s (Δ from the per-row
/// storage error and norms, see `bound`). Let a_m be the shortlist's worst approximate score. An
/// item outside the shortlist has â ≤ a_m, so s ≤ a_m + Δ. When the k-th best exact score inside
/// the shortlist is > a_m + Δ, no outside item can enter the top-k: the rescored list is the
/// exact answer. Queries without that certificate are reported so the caller can score them
/// exactly against the full catalog; results are exact either way.
struct Rescorer {
    /// The f32 catalog the reduced one was made from (same rows and dimension).
    let original: Catalog
    let metric: Metric
    /// ‖x‖ per row of the original.
    let norms: [Float]
    /// Δ per unit query norm: Δ(q) = ‖q‖ · unitBound (cosine queries are normalized, so ‖q‖ = 1).
    let unitBound: Float

    /// - storageError: ‖x − stored‖ per row; arithmetic: relative error of the approximate score
    ///   arithmetic itself (|computed − q·x̂| ≤ arithmetic · ‖q‖ ‖x̂‖).
    init(original: Catalog, metric: Metric, norms: [Float], storageError: [Float], arithmetic: Float) {
        (self.original, self.metric, self.norms) = (original, metric, norms)
        var worst: Float = 0
        // The f32 rescoring rounds too (≤ D·2⁻²⁴·‖q‖‖x‖ for a D-term dot product; counted as
        // D·2⁻²³ for margin) on top of the approximate arithmetic, so the certificate holds for
        // the computed exact scores.
        let relative = arithmetic + Float(original.dimension) * Float.ulpOfOne
        for i in norms.indices {
            let e = storageError[i] + relative * (norms[i] + storageError[i])
            let bound: Float
            switch metric {
            case .dot: bound = e
            case .cosine: bound = norms[i] > 0 ? e / norms[i] : 0
            case .l2: bound = 2 * e
            }
            worst = max(worst, bound)
        }
        unitBound = worst * 1.01
    }

    /// Rescored top-k per query from the approximate shortlists (`approx.k` = m ≥ k entries per
    /// query). queries: the prepared (cosine: normalized) `[Q, D]` rows; squaredNorms: ‖q‖².
    /// Returns the exact lists (best first; ranking scores, as the backend op gives them) and the
    /// queries whose certificate failed.
    func rescore(_ approx: TopKResult, queries: Tensor, squaredNorms: [Float], k: Int, threads: Int)
        -> (rows: [Int32], scores: [Float], uncertified: [Int]) {
        let (q, m, d) = (approx.queries, approx.k, original.dimension)
        var rows = [Int32](repeating: -1, count: q * k), scores = [Float](repeating: -.infinity, count: q * k)
        var certified = [Bool](repeating: true, count: q)
        let catalog = original.tile(0..<original.rows)
        nonisolated(unsafe) let items = UnsafePointer(catalog.storage.pointer.assumingMemoryBound(to: Float.self))
        nonisolated(unsafe) let qs = UnsafePointer(queries.storage.pointer.assumingMemoryBound(to: Float.self))
        rows.withUnsafeMutableBufferPointer { rowsOut in
            scores.withUnsafeMutableBufferPointer { scoresOut in
                certified.withUnsafeMutableBufferPointer { ok in
                    nonisolated(unsafe) let (rowsOut, scoresOut, ok) = (rowsOut, scoresOut, ok)
                    DispatchQueue.concurrentPerform(iterations: max(1, min(threads, q))) { t in
                        for i in stride(from: t, to: q, by: max(1, min(threads, q))) {
                            let candidates = approx.results(i)
                            var exact = candidates.map { c -> (row: Int, score: Float) in
                                (c.row, score(qs + i * d, items + c.row * d, row: c.row, d: d))
                            }
                            exact.sort { $0.score > $1.score || ($0.score == $1.score && $0.row < $1.row) }
                            for j in 0..<min(k, exact.count) {
                                rowsOut[i * k + j] = Int32(exact[j].row)
                                scoresOut[i * k + j] = exact[j].score
                            }
                            // A shortlist with empty slots holds every eligible item: exact.
                            if candidates.count == m, exact.count >= k {
                                let worstApprox = candidates[m - 1].score
                                let delta = squaredNorms[i].squareRoot() * unitBound
                                ok[i] = exact[k - 1].score > worstApprox + delta
                            }
                        }
                    }
                }
            }
        }
        return (rows, scores, certified.indices.filter { !certified[$0] })
    }

    /// The ranking score (as `Metric.itemTerms` defines it) of one query and one original row.
    private func score(_ q: UnsafePointer<Float>, _ x: UnsafePointer<Float>, row: Int, d: Int) -> Float {
        var acc = SIMD16<Float>()
        var tail: Float = 0
        let full = d / 16 * 16
        for j in stride(from: 0, to: full, by: 16) {
            // `a * b` then `+=`, not addProduct: without FMA in the baseline target, addProduct
            // becomes a call to fmaf per lane.
            acc += UnsafeRawPointer(q + j).loadUnaligned(as: SIMD16<Float>.self)
                * UnsafeRawPointer(x + j).loadUnaligned(as: SIMD16<Float>.self)
        }
        for j in full..<d { tail += q[j] * x[j] }
        let dot = acc.sum() + tail
        switch metric {
        case .dot: return dot
        case .cosine: return norms[row] > 0 ? dot / norms[row] : 0
        case .l2: return 2 * dot - norms[row] * norms[row]
        }
    }
}
