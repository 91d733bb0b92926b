import Testing
import QuiverRuntime
import QuiverTestSupport

/// `similarityTopK` on every backend against the float64 brute force, compared with the tie rule
/// (`TopKReference.mismatch`). Scores are dot products of D ≤ 64 values in [-1, 1]: float32 error
/// stays below 1e-5, so a tolerance of 1e-4 catches any wrong row, score or order.
@Suite struct TopKTests {
    /// Runs the op over `tiles` (row counts, in order) and returns the downloaded lists.
    static func run(_ backend: any ComputeBackend, queries: [Float], items: Tensor, d: Int, k: Int, tiles: [Int],
                    scale: [Float]? = nil, bias: [Float]? = nil, excluded: [[Int32]]? = nil) throws -> (rows: [Int32], scores: [Float]) {
        let q = queries.count / d
        let top = try TopKLists.empty(queries: q, k: k, on: backend)
        let queriesT = try backend.f32([q, d], queries)
        let exclusions = try excluded.map { try RowExclusions.make($0, on: backend) }
        var first = 0
        let all = items.floats()
        for t in tiles {
            let slice = Array(all[(first * d)..<((first + t) * d)])
            let host: Tensor
            switch items.dtype {
            case .f16: host = try Tensor(shape: [t, d], halves: slice)
            case .i8: host = try Tensor(shape: [t, d], int8s: slice.map { Int8($0) })
            default: host = try Tensor(shape: [t, d], floats: slice)
            }
            try backend.similarityTopK(
                queries: queriesT, tile: backend.tensor(host),
                rowScale: try scale.map { try backend.f32([t], Array($0[first..<(first + t)])) },
                rowBias: try bias.map { try backend.f32([t], Array($0[first..<(first + t)])) },
                firstRow: first, exclusions: exclusions, top: top)
            first += t
        }
        return (try backend.download(top.rows).int32s(), try backend.values(top.scores))
    }

    static func check(_ got: (rows: [Int32], scores: [Float]), _ ranking: [[TopKReference.Entry]], k: Int,
                      tolerance: Double = 1e-4, _ label: String) {
        for (qi, expected) in ranking.enumerated() {
            let rows = Array(got.rows[(qi * k)..<((qi + 1) * k)]), scores = Array(got.scores[(qi * k)..<((qi + 1) * k)])
            if let problem = TopKReference.mismatch(rows: rows, scores: scores, ranking: expected, k: k, tolerance: tolerance) {
                Issue.record("\(label) query \(qi): \(problem) \(TestSeed.replay)")
                return
            }
        }
    }

    @Test(arguments: TestBackends.names, [1, 10, 100, 1024])
    func randomCatalogInSeveralTiles(backendName: String, k: Int) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        var rng = TestSeed.rng("topk-random-\(backendName)-\(k)")
        let (q, t, d) = (19, 1537, 40)
        let queries = rng.floats(q * d), items = rng.floats(t * d)
        let got = try Self.run(backend, queries: queries, items: Tensor(shape: [t, d], floats: items), d: d, k: k,
                               tiles: [700, 1, 836])
        let ranking = TopKReference.ranking(queries: queries.doubles, items: items.doubles, d: d)
        Self.check(got, ranking, k: k, "\(backendName) k=\(k)")
    }

    /// Enough queries for the CPU backend to split them across threads (≥ 128 per thread), with
    /// an f16 tile and exclusions, against the brute force.
    @Test(arguments: TestBackends.names)
    func manyQueriesSplitAcrossThreads(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        var rng = TestSeed.rng("topk-many-\(backendName)")
        let (q, t, d, k) = (301, 700, 16, 12)
        let queries = rng.floats(q * d)
        let stored = try Tensor(shape: [t, d], halves: rng.floats(t * d))
        let excluded: [[Int32]] = (0..<q).map { i in i % 5 == 0 ? [Int32(i % t), Int32((7 * i) % t)] : [] }
        let got = try Self.run(backend, queries: queries, items: stored, d: d, k: k, tiles: [333, 367], excluded: excluded)
        let ranking = TopKReference.ranking(queries: queries.doubles, items: stored.floats().doubles, d: d,
                                            excluded: excluded.map { $0.map(Int.init) })
        Self.check(got, ranking, k: k, "\(backendName)")
    }

    /// k larger than the catalog: every item, then empty slots (row −1).
    @Test(arguments: TestBackends.names)
    func kBeyondCatalogReturnsEveryItem(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        var rng = TestSeed.rng("topk-small-\(backendName)")
        let (q, t, d, k) = (3, 9, 7, 16)
        let queries = rng.floats(q * d), items = rng.floats(t * d)
        let got = try Self.run(backend, queries: queries, items: Tensor(shape: [t, d], floats: items), d: d, k: k, tiles: [9])
        Self.check(got, TopKReference.ranking(queries: queries.doubles, items: items.doubles, d: d), k: k, "\(backendName)")
    }

    /// Small integer vectors make every score exact in float32, and a catalog of few distinct rows
    /// repeated makes most scores tie: ids must follow the tie rule exactly (tolerance 0).
    @Test(arguments: TestBackends.names, [5, 64, 333])
    func duplicateHeavyCatalogFollowsTieRuleExactly(backendName: String, k: Int) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        var rng = TestSeed.rng("topk-ties-\(backendName)-\(k)")
        let (q, t, d, distinct) = (11, 1200, 24, 6)
        let patterns = (0..<distinct).map { _ in (0..<d).map { _ in Float(Int.random(in: -3...3, using: &rng)) } }
        let items = (0..<t).flatMap { _ in patterns[Int.random(in: 0..<distinct, using: &rng)] }
        let queries = (0..<(q * d)).map { _ in Float(Int.random(in: -2...2, using: &rng)) }
        let got = try Self.run(backend, queries: queries, items: Tensor(shape: [t, d], floats: items), d: d, k: k,
                               tiles: [513, 687])
        Self.check(got, TopKReference.ranking(queries: queries.doubles, items: items.doubles, d: d), k: k,
                   tolerance: 0, "\(backendName) k=\(k)")
    }

    /// Clustered catalog (tight clusters → many near-ties) with the cosine and L2 forms of
    /// rowScale / rowBias.
    @Test(arguments: TestBackends.names, ["cosine", "l2"])
    func clusteredCatalogWithScaleAndBias(backendName: String, metric: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        var rng = TestSeed.rng("topk-clustered-\(backendName)-\(metric)")
        let (q, t, d, k) = (13, 900, 32, 50)
        let centers = (0..<8).map { _ in rng.floats(d) }
        let items = (0..<t).flatMap { i in zip(centers[i % 8], rng.floats(d, in: -0.01...0.01)).map { $0 + $1 } }
        let queries = rng.floats(q * d)
        let norms = (0..<t).map { i in (0..<d).reduce(Float(0)) { $0 + items[i * d + $1] * items[i * d + $1] } }
        let scale = metric == "cosine" ? norms.map { 1 / $0.squareRoot() } : [Float](repeating: 2, count: t)
        let bias = metric == "cosine" ? nil : norms.map { -$0 }
        let got = try Self.run(backend, queries: queries, items: Tensor(shape: [t, d], floats: items), d: d, k: k,
                               tiles: [450, 450], scale: scale, bias: bias)
        let ranking = TopKReference.ranking(queries: queries.doubles, items: items.doubles, d: d,
                                            scale: scale.doubles, bias: bias?.doubles)
        Self.check(got, ranking, k: k, tolerance: 3e-4, "\(backendName) \(metric)")
    }

    /// f16 and i8 tiles: the reference scores the stored (rounded) values, so results are exact.
    @Test(arguments: TestBackends.names, [DType.f16, .i8])
    func reducedPrecisionTiles(backendName: String, dtype: DType) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        var rng = TestSeed.rng("topk-dtype-\(backendName)-\(dtype)")
        let (q, t, d, k) = (9, 777, 48, 20)
        let queries = rng.floats(q * d)
        let stored: Tensor, scale: [Float]?
        if dtype == .f16 {
            stored = try Tensor(shape: [t, d], halves: rng.floats(t * d))
            scale = nil
        } else {
            stored = try Tensor(shape: [t, d], int8s: (0..<(t * d)).map { _ in Int8.random(in: -127...127, using: &rng) })
            scale = rng.floats(t, in: 0.001...0.01)
        }
        let got = try Self.run(backend, queries: queries, items: stored, d: d, k: k, tiles: [400, 377], scale: scale)
        let ranking = TopKReference.ranking(queries: queries.doubles, items: stored.floats().doubles, d: d, scale: scale?.doubles)
        Self.check(got, ranking, k: k, tolerance: dtype == .i8 ? 1e-3 : 1e-4, "\(backendName) \(dtype)")
    }

    /// Excluded rows never come back, and k results are still returned when there are enough items.
    @Test(arguments: TestBackends.names)
    func exclusionsAreNeverReturned(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        var rng = TestSeed.rng("topk-exclude-\(backendName)")
        let (q, t, d, k) = (6, 500, 16, 30)
        let queries = rng.floats(q * d), items = rng.floats(t * d)
        let full = TopKReference.ranking(queries: queries.doubles, items: items.doubles, d: d)
        // Query i excludes its own best 5·i rows (so the answer must reach further down) and a few random ones.
        let excluded: [[Int32]] = (0..<q).map { i in
            full[i].prefix(5 * i).map { Int32($0.row) } + (0..<3).map { _ in Int32.random(in: 0..<Int32(t), using: &rng) }
        }
        let got = try Self.run(backend, queries: queries, items: Tensor(shape: [t, d], floats: items), d: d, k: k,
                               tiles: [250, 250], excluded: excluded)
        let ranking = TopKReference.ranking(queries: queries.doubles, items: items.doubles, d: d,
                                            excluded: excluded.map { $0.map(Int.init) })
        Self.check(got, ranking, k: k, "\(backendName)")
    }

    /// The approximate op (CPU: bf16 with ≥ 64 queries): every returned score is within the
    /// backend's stated bound of the exact dot product, and every returned row is a true top-k
    /// candidate up to twice that bound.
    @Test(arguments: TestBackends.names, [DType.f32, .f16, .i8])
    func approximateScoresStayWithinTheStatedBound(backendName: String, dtype: DType) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        var rng = TestSeed.rng("topk-approx-\(backendName)-\(dtype)")
        let (q, t, d, k) = (70, 1100, 48, 15)
        let queries = rng.floats(q * d)
        let stored: Tensor
        switch dtype {
        case .f16: stored = try Tensor(shape: [t, d], halves: rng.floats(t * d))
        case .i8: stored = try Tensor(shape: [t, d], int8s: (0..<(t * d)).map { _ in Int8.random(in: -127...127, using: &rng) })
        default: stored = try Tensor(shape: [t, d], floats: rng.floats(t * d))
        }
        let top = try TopKLists.empty(queries: q, k: k, on: backend)
        try backend.approximateSimilarityTopK(queries: backend.f32([q, d], queries), tile: backend.tensor(stored), rowScale: nil,
                                              rowBias: nil, firstRow: 0, exclusions: nil, top: top)
        let rows = try backend.download(top.rows).int32s(), scores = try backend.values(top.scores)
        let items = stored.floats()
        let ranking = TopKReference.ranking(queries: queries.doubles, items: items.doubles, d: d)
        let epsilon = Double(backend.approximateScoreError(dimension: d))
        #expect(epsilon < 0.01)
        for qi in 0..<q {
            let qNorm = (0..<d).reduce(0.0) { $0 + Double(queries[qi * d + $1] * queries[qi * d + $1]) }.squareRoot()
            let kth = ranking[qi][k - 1].score
            for j in 0..<k {
                let r = Int(rows[qi * k + j])
                let exact = (0..<d).reduce(0.0) { $0 + Double(queries[qi * d + $1]) * Double(items[r * d + $1]) }
                let xNorm = (0..<d).reduce(0.0) { $0 + Double(items[r * d + $1] * items[r * d + $1]) }.squareRoot()
                let bound = epsilon * qNorm * xNorm
                #expect(abs(Double(scores[qi * k + j]) - exact) <= bound, "query \(qi) row \(r): \(scores[qi * k + j]) vs \(exact), bound \(bound) \(TestSeed.replay)")
                #expect(exact >= kth - 2 * bound - 1e-6, "query \(qi) row \(r) scores \(exact), below the k-th \(kth) by more than the bound \(TestSeed.replay)")
            }
        }
    }

    @Test(arguments: TestBackends.names)
    func rejectsBadArguments(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        #expect(throws: QuiverError.self) { try TopKLists.empty(queries: 2, k: TopKLists.maxK + 1, on: backend) }
        let top = try TopKLists.empty(queries: 2, k: 3, on: backend)
        #expect(throws: QuiverError.self) {
            try backend.similarityTopK(queries: backend.zeros([2, 4]), tile: backend.zeros([5, 3]), rowScale: nil,
                                       rowBias: nil, firstRow: 0, exclusions: nil, top: top)
        }
        #expect(throws: QuiverError.self) {
            try backend.similarityTopK(queries: backend.zeros([3, 4]), tile: backend.zeros([5, 4]), rowScale: nil,
                                       rowBias: nil, firstRow: 0, exclusions: nil, top: top)
        }
    }
}
