import Foundation
import Hummingbird
import QuiverRuntime
import QuiverServer
import QuiverTestSupport
import Testing

/// `/search` and `/recommend` over real HTTP give what `quiver score` (its `ScoreJob`) writes for
/// the same query vectors, texts and exclusions: same ids in the same order, same scores.
@Suite(.serialized) struct CatalogRoutesTests {
    struct Results: Decodable {
        struct Hit: Decodable { var id: String; var row: Int; var score: Float }
        var model: String
        var metric: String
        var results: [Hit]
    }

    struct ScoreLine: Decodable { var query: Int; var items: [String]; var scores: [Float] }

    /// `quiver score` on the fixture catalog (cosine, ids) for `queries`, as the job writes it.
    static func score(_ queries: ScoreJob.Spec.Queries, k: Int, exclude: [[String]]? = nil) throws -> [ScoreLine] {
        let files = try ServerFixture.catalogFiles()
        let dir = try Scratch.directory("serve-score")
        var spec = ScoreJob.Spec(catalog: files.catalog, queries: queries, k: k, metric: .cosine,
                                 output: dir.appendingPathComponent("out.jsonl").path)
        spec.ids = files.ids
        if let exclude {
            let path = dir.appendingPathComponent("exclude.jsonl").path
            let lines = try exclude.enumerated().map { i, items in
                String(decoding: try JSONSerialization.data(withJSONObject: ["query": i, "exclude": items]), as: UTF8.self)
            }
            try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            spec.exclude = path
        }
        _ = try ScoreJob(spec: spec, backend: try #require(try TestBackends.backend("cpu")), threads: 2).run { _, _ in }
        let text = try String(contentsOfFile: spec.output, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(ScoreLine.self, from: Data($0.utf8)) }
    }

    static func expectSame(_ hits: Results, _ line: ScoreLine, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(hits.results.map(\.id) == line.items, sourceLocation: sourceLocation)
        #expect(hits.results.map(\.row) == line.items.compactMap { Int($0.dropFirst()) }, sourceLocation: sourceLocation)
        #expect(ServerFixture.maxDifference(hits.results.map(\.score), line.scores) <= 1e-5, sourceLocation: sourceLocation)
    }

    @Test func searchEqualsQuiverScore() async throws {
        var rng = TestSeed.rng("serve-search")
        let vectors = (0..<3).map { _ in rng.floats(384) }
        let dir = try Scratch.directory("serve-search")
        let queries = dir.appendingPathComponent("q.npy").path
        try Npy.write(Tensor(shape: [3, 384], floats: vectors.flatMap { $0 }), to: queries)
        let texts = dir.appendingPathComponent("q.txt").path
        let queryTexts = ["a man riding a horse", "capital cities of Europe"]
        try queryTexts.joined(separator: "\n").write(toFile: texts, atomically: true, encoding: .utf8)
        let exclude = [["s3", "s7"], [], ["s0"]]

        let byVector = try Self.score(.vectors(path: queries), k: 6, exclude: exclude)
        let byText = try Self.score(.texts(path: texts, format: .text, model: ServerFixture.modelPath, maxLength: nil), k: 5)

        try await LiveServer.run(try ServerFixture.server()) { client in
            for i in 0..<3 {
                let response = try await ServerFixture.post(client, "/search", ["vector": vectors[i], "k": 6, "exclude": exclude[i]])
                let hits = try ServerFixture.decode(Results.self, response)
                #expect(hits.metric == "cosine" && hits.model == "all-MiniLM-L6-v2")
                Self.expectSame(hits, byVector[i])
            }
            for (i, text) in queryTexts.enumerated() {
                Self.expectSame(try ServerFixture.decode(Results.self, try await ServerFixture.post(client, "/search", ["query": text, "k": 5])), byText[i])
            }
            // A catalog sentence finds itself first.
            let parity = try ServerFixture.parity()
            let own = try ServerFixture.decode(Results.self, try await ServerFixture.post(client, "/search", ["query": parity.sentences[4], "k": 1]))
            #expect(own.results.first?.id == "s4" && abs((own.results.first?.score ?? 0) - 1) < 1e-4)
        }
    }

    @Test func recommendEqualsQuiverScoreOfTheUserVector() async throws {
        let parity = try ServerFixture.parity()
        // Weighted mean of s4 (weight 2, now) and s7 (weight 1, one half-life old: counts 0.5).
        let now = 1_800_000_000.0
        let user = (0..<384).map { j in (2 * parity.embedding(4)[j] + 0.5 * parity.embedding(7)[j]) / 2.5 }
        let dir = try Scratch.directory("serve-recommend")
        let queries = dir.appendingPathComponent("u.npy").path
        try Npy.write(Tensor(shape: [1, 384], floats: user), to: queries)
        let expected = try Self.score(.vectors(path: queries), k: 5, exclude: [["s4", "s7"]])

        try await LiveServer.run(try ServerFixture.server()) { client in
            let body: [String: Any] = ["history": [["item": "s4", "weight": 2, "timestamp": now],
                                                   ["item": "s7", "timestamp": "2027-01-15T07:00:00Z"]],
                                       "k": 5, "half_life": 3600, "now": now]
            // 2027-01-15T07:00:00Z is 1_800_000_000 − 3600 s.
            #expect(ISO8601DateFormatter().date(from: "2027-01-15T07:00:00Z")?.timeIntervalSince1970 == now - 3600)
            let hits = try ServerFixture.decode(Results.self, try await ServerFixture.post(client, "/recommend", body))
            Self.expectSame(hits, expected[0])

            // Plain ids: equal weights, no decay.
            let mean = (0..<384).map { j in (parity.embedding(1)[j] + parity.embedding(2)[j]) / 2 }
            try Npy.write(Tensor(shape: [1, 384], floats: mean), to: queries)
            let plain = try Self.score(.vectors(path: queries), k: 3, exclude: [["s1", "s2"]])
            Self.expectSame(try ServerFixture.decode(Results.self, try await ServerFixture.post(client, "/recommend", ["history": ["s1", "s2"], "k": 3])), plain[0])
        }
    }

    @Test func catalogErrors() async throws {
        try await LiveServer.run(try ServerFixture.server()) { client in
            let cases: [([String: Any], String, String)] = [
                (["vector": [Float](repeating: 0.1, count: 10)], "/search", "invalid_dimensions"),
                (["query": "x", "vector": [1.0]], "/search", "missing_field"),
                ([:], "/search", "missing_field"),
                (["query": ""], "/search", "empty_input"),
                (["query": "x", "k": 0], "/search", "invalid_value"),
                (["query": "x", "k": 5000], "/search", "invalid_value"),
                (["query": "x", "exclude": [true]], "/search", "invalid_value"),
                (["vector": ["a"]], "/search", "invalid_type"),
                (["history": []], "/recommend", "empty_input"),
                (["history": ["nope"]], "/recommend", "unknown_item"),
                (["history": [["item": "s1", "weight": -1]]], "/recommend", "invalid_value"),
                (["history": [["weight": 1]]], "/recommend", "missing_field"),
                (["history": [["item": "s1", "timestamp": "yesterday"]]], "/recommend", "invalid_value"),
                (["history": ["s1"], "half_life": 0], "/recommend", "invalid_value"),
            ]
            for (body, uri, code) in cases {
                let response = try await ServerFixture.post(client, uri, body)
                try ServerFixture.expectError(response, .badRequest, code: code)
            }
            // A number too large for float32 is not a vector.
            let huge = try await ServerFixture.post(client, "/search", json: #"{"vector": [1e39]}"#)
            #expect(huge.status == .badRequest)
        }
    }
}
