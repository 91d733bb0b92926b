import Foundation
import Hummingbird
import QuiverRuntime
import QuiverServer
import Testing

/// `/embed_all` (every token's last hidden state) and `/embed` with `normalize: false` (the pooled
/// vector before the model's Normalize module, as TEI returns it) against sentence-transformers
/// (Tests/Fixtures/models/minilm_tokens.*, scripts/fixtures/token_embeddings.py).
@Suite(.serialized) struct TEIEmbedAllTests {
    struct Fixture: Decodable {
        var sentences: [String]
        var ids: [[Int32]]
        var starts: [Int]
        var hidden: Int
        var pooled: [[Float]]
        var pooledNorms: [Double]
        /// `[total tokens, hidden]` from the .npy.
        var tokens: [Float] = []

        enum CodingKeys: String, CodingKey { case sentences, ids, starts, hidden, pooled, pooledNorms = "pooled_norms" }

        /// Sentence `i`'s token vectors.
        func tokens(_ i: Int) -> [[Float]] {
            (0..<ids[i].count).map { t in Array(tokens[((starts[i] + t) * hidden)..<((starts[i] + t + 1) * hidden)]) }
        }
    }

    static let fixture = Result {
        let dir = ServerFixture.root.appendingPathComponent("Tests/Fixtures/models")
        var f = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: dir.appendingPathComponent("minilm_tokens.json")))
        f.tokens = try Npy.read(path: dir.appendingPathComponent("minilm_tokens.npy").path).floats()
        return f
    }

    /// Largest |a − b| over token vectors; infinity when the shapes differ.
    static func maxDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).map { ServerFixture.maxDifference($0, $1) }.max() ?? 0
    }

    @Test func embedAllEqualsSentenceTransformersTokenEmbeddings() async throws {
        let f = try Self.fixture.get()
        try await LiveServer.run(try ServerFixture.server()) { client in
            let rows = try ServerFixture.decode([[[Float]]].self, try await ServerFixture.post(client, "/embed_all", ["inputs": f.sentences]))
            #expect(rows.count == f.sentences.count)
            for i in f.sentences.indices {
                #expect(rows[i].count == f.ids[i].count && rows[i].allSatisfy { $0.count == 384 }, "sentence \(i)")
                let diff = Self.maxDifference(rows[i], f.tokens(i))
                #expect(diff <= 1e-4, "sentence \(i): max |Δ| \(diff)")
            }
            // Token ids as input give the same states; one string answers a list of one.
            let byIds = try ServerFixture.decode([[[Float]]].self, try await ServerFixture.post(client, "/embed_all", ["inputs": f.ids[2]]))
            #expect(Self.maxDifference(byIds[0], rows[2]) <= 1e-4)
            let single = try ServerFixture.decode([[[Float]]].self, try await ServerFixture.post(client, "/embed_all", ["inputs": f.sentences[0]]))
            #expect(single.count == 1 && Self.maxDifference(single[0], rows[0]) <= 1e-4)
            // /embed_all has /embed's limits and TEI's errors.
            let long = String(repeating: "word ", count: 300)
            try ServerFixture.expectTEIError(try await ServerFixture.post(client, "/embed_all", ["inputs": long]), .contentTooLarge, type: "Validation")
            let cut = try ServerFixture.decode([[[Float]]].self, try await ServerFixture.post(client, "/embed_all", ["inputs": long, "truncate": true]))
            #expect(cut[0].count == 256)
            try ServerFixture.expectTEIError(try await ServerFixture.post(client, "/embed_all", ["inputs": [String]()]), .badRequest, type: "Empty")
        }
    }

    @Test func normalizeFalseIsThePooledVectorBeforeNormalize() async throws {
        let f = try Self.fixture.get()
        let parity = try ServerFixture.parity()
        try await LiveServer.run(try ServerFixture.server()) { client in
            let raw = try ServerFixture.decode([[Float]].self, try await ServerFixture.post(
                client, "/embed", ["inputs": f.sentences, "normalize": false]))
            for i in f.sentences.indices {
                #expect(ServerFixture.maxDifference(raw[i], f.pooled[i]) <= 1e-4, "sentence \(i)")
                let norm = raw[i].reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
                #expect(abs(norm - f.pooledNorms[i]) <= 1e-3 * f.pooledNorms[i] && f.pooledNorms[i] > 2, "sentence \(i): norm \(norm)")
            }
            // normalize: true (the default) is still the model's unit-length output.
            let unit = try ServerFixture.decode([[Float]].self, try await ServerFixture.post(client, "/embed", ["inputs": parity.sentences[0]]))
            #expect(ServerFixture.maxDifference(unit[0], parity.embedding(0)) <= 2e-4)
        }
    }

    /// Requests wanting embeddings, raw pooled vectors and token states share one forward pass
    /// (a window batcher that closes only when all 18 inputs wait) and each gets its own output.
    @Test func mixedOutputsInOneBatch() async throws {
        let f = try Self.fixture.get()
        let parity = try ServerFixture.parity()
        let engine = try ServerFixture.engine(catalog: false, policy: .window(maxBatch: 18, maxDelay: .seconds(20)))
        try await LiveServer.run(try ServerFixture.server([ServedModel(engine: engine)])) { client in
            async let all = ServerFixture.post(client, "/embed_all", ["inputs": f.sentences])
            async let raw = ServerFixture.post(client, "/embed", ["inputs": f.sentences, "normalize": false])
            async let unit = ServerFixture.post(client, "/embed", ["inputs": Array(parity.sentences.prefix(6))])
            let (a, r, u) = try await (all, raw, unit)
            let tokens = try ServerFixture.decode([[[Float]]].self, a)
            let pooled = try ServerFixture.decode([[Float]].self, r)
            let embeddings = try ServerFixture.decode([[Float]].self, u)
            for i in 0..<6 {
                #expect(Self.maxDifference(tokens[i], f.tokens(i)) <= 1e-4, "tokens \(i)")
                #expect(ServerFixture.maxDifference(pooled[i], f.pooled[i]) <= 1e-4, "pooled \(i)")
                #expect(ServerFixture.maxDifference(embeddings[i], parity.embedding(i)) <= 2e-4, "embedding \(i)")
            }
            let stats = try #require(await engine.stats()["text"])
            #expect(stats.batches == 1, "\(stats)")
        }
    }
}
