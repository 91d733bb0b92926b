import Foundation
import Testing
import QuiverRuntime
import QuiverTestSupport

/// `Engine`: concurrent embed calls go through the batcher and still equal sentence-transformers'
/// embeddings (fixture), search equals the brute force, recommend excludes history and follows
/// the weighted-mean definition.
@Suite(.serialized) struct EngineTests {
    /// `slo` waits until a request's last safe moment, so on a loaded test machine a late timer
    /// can shed a request (its timing is tested on a virtual clock in QuiverSchedulerTests); here
    /// batching goes through `window` and everything else through `none`.
    static func engine(catalog: String? = nil, ids: String? = nil, metric: Metric = .cosine, policy: BatchPolicy = .slo) throws -> Engine {
        var config = Engine.Configuration()
        (config.model, config.catalog, config.ids, config.metric, config.policy) = (EncodeCLITests.model, catalog, ids, metric, policy)
        config.latencyTarget = .milliseconds(500)
        return try Engine(configuration: config, backend: try #require(try TestBackends.backend("cpu")))
    }

    @Test func concurrentEmbedsMatchSentenceTransformers() async throws {
        let fixture = try EncodeCLITests.fixture()
        let engine = try Self.engine(policy: .window(maxBatch: 16, maxDelay: .milliseconds(300)))
        let texts = Array(fixture.sentences.prefix(16))
        // Eight concurrent callers with two texts each: they share batches.
        let results = try await withThrowingTaskGroup(of: (Int, [[Float]]).self) { group in
            for c in 0..<8 { group.addTask { (c, try await engine.embed(Array(texts[(2 * c)..<(2 * c + 2)]))) } }
            var out = [[[Float]]](repeating: [], count: 8)
            for try await (c, rows) in group { out[c] = rows }
            return out.flatMap { $0 }
        }
        for (i, row) in results.enumerated() {
            let expected = Array(fixture.embeddings[(i * fixture.hidden)..<((i + 1) * fixture.hidden)])
            let error = zip(row, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(error <= 2e-4, "text \(i): max |Δ| \(error)")
        }
        let stats = await engine.stats()
        #expect(stats["text"]?.completed == 16)
        #expect((stats["text"]?.batches ?? 99) < 16, "concurrent callers should share batches")
    }

    /// Batches running side by side on one single-threaded CPU backend (`quiver serve`'s default
    /// on the CPU) share its buffer pool and OpenBLAS; every vector must still be right.
    @Test func concurrentBatchesOnOneBackendStayCorrect() async throws {
        let fixture = try EncodeCLITests.fixture()
        var config = Engine.Configuration()
        (config.model, config.policy, config.concurrentBatches) = (EncodeCLITests.model, .none, 3)
        let backend = try BackendFactory.make(.cpu, cpuThreads: 1).backend
        let engine = try Engine(configuration: config, backend: backend)
        let texts = Array(fixture.sentences.prefix(12))
        let results = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for i in texts.indices { group.addTask { (i, try await engine.embed([texts[i]])[0]) } }
            var out = [[Float]](repeating: [], count: texts.count)
            for try await (i, row) in group { out[i] = row }
            return out
        }
        for (i, row) in results.enumerated() {
            let expected = Array(fixture.embeddings[(i * fixture.hidden)..<((i + 1) * fixture.hidden)])
            let error = zip(row, expected).map { abs($0 - $1) }.max() ?? .infinity
            #expect(row.count == fixture.hidden && error <= 2e-4, "text \(i): max |Δ| \(error)")
        }
        #expect(await engine.stats()["text"]?.completed == texts.count)
    }

    @Test func searchAndRecommend() async throws {
        var rng = TestSeed.rng("engine-search")
        let (n, d) = (500, 384)
        let items = rng.floats(n * d)
        let dir = try Scratch.directory("engine")
        let catalogPath = dir.appendingPathComponent("c.npy").path, idsPath = dir.appendingPathComponent("ids.txt").path
        try Npy.write(Tensor(shape: [n, d], floats: items), to: catalogPath)
        try (0..<n).map { "sku\($0)" }.joined(separator: "\n").write(toFile: idsPath, atomically: true, encoding: .utf8)
        let engine = try Self.engine(catalog: catalogPath, ids: idsPath, metric: .dot, policy: .none)

        let query = rng.floats(d)
        let hits = try await engine.search(vector: query, k: 5, exclude: ["sku3"])
        let ranking = TopKReference.ranking(queries: query.doubles, items: items.doubles, d: d, excluded: [[3]])
        #expect(TopKReference.mismatch(rows: hits.map { Int32($0.row) }, scores: hits.map(\.score), ranking: ranking[0], k: 5, tolerance: 1e-4) == nil)
        #expect(hits.map(\.id) == hits.map { "sku\($0.row)" })

        // Recommend: weighted mean of items 10 (weight 3) and 20 (weight 1, half-life halves it).
        let now = Date()
        let history = [Engine.HistoryItem(item: "sku10", weight: 3, time: now), .init(item: "sku20", weight: 2, time: now.addingTimeInterval(-3600))]
        let recs = try await engine.recommend(history: history, k: 4, halfLife: 3600, now: now)
        let user = (0..<d).map { j in (3 * items[10 * d + j] + 1 * items[20 * d + j]) / 4 }
        let expected = TopKReference.ranking(queries: user.doubles, items: items.doubles, d: d, excluded: [[10, 20]])
        #expect(TopKReference.mismatch(rows: recs.map { Int32($0.row) }, scores: recs.map(\.score), ranking: expected[0], k: 4, tolerance: 1e-4) == nil)

        await #expect(throws: QuiverError.self) { try await engine.search(vector: [1, 2], k: 3) }
        await #expect(throws: QuiverError.self) { try await engine.recommend(history: [.init(item: "nope")], k: 3) }
        // Text search embeds, then searches (the catalog is 384-dim like the model).
        let byText = try await engine.search(text: "running shoes", k: 3)
        #expect(byText.count == 3)
    }
}
