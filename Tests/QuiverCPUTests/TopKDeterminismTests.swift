import QuiverCore
import QuiverCPU
import QuiverTestSupport
import Testing

/// `similarityTopK` on the CPU backend gives the same bits for any thread count up to 256 queries
/// per call: OpenBLAS's sums depend on a call's shape and its own thread count, so the backend must
/// cut the work the same way whatever `threads` is (or whatever a concurrent op sets OpenBLAS to).
@Suite struct TopKDeterminismTests {
    static func topK(threads: Int, queries: [Float], items: [Float], d: Int, k: Int) throws -> (rows: [Int32], scores: [Float]) {
        let backend = CPUBackend(threads: threads)
        let q = queries.count / d, t = items.count / d
        let top = try TopKLists.empty(queries: q, k: k, on: backend)
        try backend.similarityTopK(queries: try backend.f32([q, d], queries), tile: try backend.f32([t, d], items),
                                   rowScale: nil, rowBias: nil, firstRow: 0, exclusions: nil, top: top)
        return (try backend.download(top.rows).int32s(), try backend.values(top.scores))
    }

    /// At an encoder's width, where OpenBLAS's 1- and 2-thread sums differ in about half the scores.
    @Test(arguments: [7, 256])
    func scoresAreTheSameBitsForAnyThreadCount(queries q: Int) throws {
        var rng = TestSeed.rng("topk-threads-\(q)")
        let (t, d, k) = (2600, 384, 40)
        let queries = rng.floats(q * d), items = rng.floats(t * d)
        let one = try Self.topK(threads: 1, queries: queries, items: items, d: d, k: k)
        for threads in [2, 3] {
            let many = try Self.topK(threads: threads, queries: queries, items: items, d: d, k: k)
            let rows = zip(many.rows, one.rows).filter { $0 != $1 }.count
            let bits = zip(many.scores, one.scores).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(rows == 0 && bits == 0, "\(threads) threads vs 1: \(rows) rows and \(bits) of \(one.scores.count) scores differ \(TestSeed.replay)")
        }
    }
}
