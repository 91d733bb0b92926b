import QuiverCore
import QuiverOpenCL
import QuiverTestSupport
import Testing

/// `similarityTopK` paths the backend tests do not reach: operands split over several device
/// buffers, tiles longer than one candidate chunk (with more queries than one candidate block),
/// tiles arriving out of row order, and k = 1024 over thousands of rows. Every result is checked
/// against the float64 brute force with the tie rule (`TopKReference.mismatch`).
@Suite struct TopKSplitTests {
    /// One catalog tile: `count` rows starting at catalog row `first`.
    typealias TileRange = (first: Int, count: Int)

    /// Runs the op over `tiles` (in the given order) of `items: [T, D]` and returns the lists.
    func run(_ be: OpenCLBackend, queries: [Float], items: [Float], d: Int, k: Int, tiles: [TileRange],
             scale: [Float]? = nil, bias: [Float]? = nil, excluded: [[Int32]]? = nil) throws -> (rows: [Int32], scores: [Float]) {
        let q = queries.count / d
        let top = try TopKLists.empty(queries: q, k: k, on: be)
        let tq = try be.f32([q, d], queries)
        let exclusions = try excluded.map { try RowExclusions.make($0, on: be) }
        for tile in tiles {
            let rows = tile.first..<(tile.first + tile.count)
            try be.similarityTopK(
                queries: tq, tile: try be.f32([tile.count, d], Array(items[(rows.lowerBound * d)..<(rows.upperBound * d)])),
                rowScale: try scale.map { try be.f32([tile.count], Array($0[rows])) },
                rowBias: try bias.map { try be.f32([tile.count], Array($0[rows])) },
                firstRow: tile.first, exclusions: exclusions, top: top)
        }
        return (try be.download(top.rows).int32s(), try be.values(top.scores))
    }

    /// `TopKReference.mismatch` per query; with `exact`, also the reference rows rank by rank (for
    /// exactly representable scores, where the tie rule decides which tied rows make the cut).
    func check(_ got: (rows: [Int32], scores: [Float]), _ ranking: [[TopKReference.Entry]], k: Int,
               tolerance: Double = 1e-4, exact: Bool = false, _ label: String) {
        for (qi, expected) in ranking.enumerated() {
            let slots = (qi * k)..<((qi + 1) * k)
            let rows = Array(got.rows[slots])
            if let problem = TopKReference.mismatch(rows: rows, scores: Array(got.scores[slots]),
                                                    ranking: expected, k: k, tolerance: tolerance) {
                Issue.record("\(label) query \(qi): \(problem) \(TestSeed.replay)")
                return
            }
            let want = expected.prefix(k).map { Int32($0.row) } + [Int32](repeating: -1, count: max(k - expected.count, 0))
            if exact, rows != want {
                let rank = rows.indices.first { rows[$0] != want[$0] } ?? 0
                Issue.record("\(label) query \(qi): rank \(rank) is row \(rows[rank]), the tie rule picks \(want[rank]) \(TestSeed.replay)")
                return
            }
        }
    }

    /// With a 4 KB allocation limit: queries [30, 40] in 2 buffers (25 rows each), lists [30, 48]
    /// in 2 (21 rows each), tile [2000, 40] in 80 (25 rows each), rowScale/rowBias [2000] in 2
    /// (1024 each), so query pieces 0-21-25-30 meet 49 + 32 row pieces. The unsplit backend runs the
    /// same arithmetic and must give the identical lists.
    @Test func tileQueriesAndListsSplitAcrossBuffers() throws {
        guard let split = try TestDevice.splittingBackend(), let whole = try TestDevice.backend() else { return }
        var rng = TestSeed.rng("topk-split")
        let (q, t, d, k) = (30, 2000, 40, 48)
        let queries = rng.floats(q * d), items = rng.floats(t * d)
        let scale = rng.floats(t, in: 0.5...2), bias = rng.floats(t, in: -0.5...0.5)
        let excluded: [[Int32]] = (0..<q).map { _ in (0..<20).map { _ in Int32.random(in: 0..<Int32(t), using: &rng) } }
        let tiles: [TileRange] = [(0, 1200), (1200, 800)]

        let tile = try #require(try split.buffer([1200, d], .f32) as? OpenCLTensor)
        #expect(tile.bufferCount == 48)
        let got = try run(split, queries: queries, items: items, d: d, k: k, tiles: tiles, scale: scale, bias: bias,
                          excluded: excluded)
        let ranking = TopKReference.ranking(queries: queries.doubles, items: items.doubles, d: d, scale: scale.doubles,
                                            bias: bias.doubles, excluded: excluded.map { $0.map(Int.init) })
        check(got, ranking, k: k, "split")
        let unsplit = try run(whole, queries: queries, items: items, d: d, k: k, tiles: tiles, scale: scale, bias: bias,
                              excluded: excluded)
        if let slot = got.rows.indices.first(where: { got.rows[$0] != unsplit.rows[$0] || got.scores[$0] != unsplit.scores[$0] }) {
            let message: String = "split and unsplit lists differ first at query \(slot / k), rank \(slot % k): "
                + "row \(got.rows[slot]) score \(got.scores[slot]) vs row \(unsplit.rows[slot]) score \(unsplit.scores[slot])"
            Issue.record(Comment(rawValue: message + " \(TestSeed.replay)"))
        }
    }

    /// Exclusion lists are read whole: one split over several buffers is rejected before any work.
    @Test func splitExclusionListsAreRejected() throws {
        guard let split = try TestDevice.splittingBackend() else { return }
        let top = try TopKLists.empty(queries: 1, k: 4, on: split)
        let exclusions = try RowExclusions.make([(0..<2000).map(Int32.init)], on: split)   // 8000 bytes: 2 buffers
        #expect(throws: QuiverError.self) {
            try split.similarityTopK(queries: split.f32([1, 8], [Float](repeating: 1, count: 8)), tile: split.buffer([3, 8], .f32),
                                     rowScale: nil, rowBias: nil, firstRow: 0, exclusions: exclusions, top: top)
        }
    }

    /// Chunks of 256 rows and candidate slots for 8 queries at a time, so the 1300- and 1700-row
    /// tiles take 6 and 7 chunks and 19 queries take 3 blocks. The catalog repeats 5 integer rows
    /// (every score is exact and most tie) and arrives last tile first, so equal scores found
    /// later have lower rows and must displace the entries already kept (tolerance 0).
    @Test(arguments: [7, 200])
    func tilesLongerThanOneCandidateChunk(k: Int) throws {
        guard let device = try TestDevice.device.get() else { return }
        var config = KernelConfig.defaults(for: device)
        config.topK.chunkRows = 256
        config.topK.candidateBytes = 8 * 256 * 8
        let be = try OpenCLBackend(device: device, options: .init(cacheDirectory: TestDevice.cacheDirectory, kernels: config))
        var rng = TestSeed.rng("topk-chunks-\(k)")
        let (q, t, d) = (19, 3000, 24)
        let patterns = (0..<5).map { _ in (0..<d).map { _ in Float(Int.random(in: -3...3, using: &rng)) } }
        let items = (0..<t).flatMap { _ in patterns[Int.random(in: 0..<5, using: &rng)] }
        let queries = (0..<(q * d)).map { _ in Float(Int.random(in: -2...2, using: &rng)) }
        let got = try run(be, queries: queries, items: items, d: d, k: k, tiles: [(1700, 1300), (0, 1700)])
        check(got, TopKReference.ranking(queries: queries.doubles, items: items.doubles, d: d), k: k, tolerance: 0,
              exact: true, "chunked k=\(k)")
    }

    /// The largest k over a catalog of thousands of rows: merges run many rounds of the local sort.
    @Test func largestKOverThousandsOfRows() throws {
        guard let be = try TestDevice.backend() else { return }
        var rng = TestSeed.rng("topk-k1024")
        let (q, t, d, k) = (5, 6000, 32, TopKLists.maxK)
        let queries = rng.floats(q * d), items = rng.floats(t * d)
        let excluded: [[Int32]] = (0..<q).map { _ in (0..<50).map { _ in Int32.random(in: 0..<Int32(t), using: &rng) } }
        let got = try run(be, queries: queries, items: items, d: d, k: k, tiles: [(0, 2500), (2500, 3500)], excluded: excluded)
        let ranking = TopKReference.ranking(queries: queries.doubles, items: items.doubles, d: d,
                                            excluded: excluded.map { $0.map(Int.init) })
        check(got, ranking, k: k, "k=1024")
    }
}
