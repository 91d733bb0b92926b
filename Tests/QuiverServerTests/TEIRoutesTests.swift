import Foundation
import Hummingbird
import QuiverRuntime
import QuiverServer
import QuiverTestSupport
import Testing

/// TEI's routes over real HTTP: `/embed` equals sentence-transformers (parity fixture) with TEI's
/// `normalize` and `truncate` rules, `/tokenize` equals Hugging Face's ids, `/info`, `/health`.
@Suite(.serialized) struct TEIRoutesTests {
    struct Token: Decodable { var id: Int; var text: String; var special: Bool; var start: Int?; var stop: Int? }

    @Test func embedMatchesSentenceTransformers() async throws {
        let parity = try ServerFixture.parity()
        try await LiveServer.run(try ServerFixture.server()) { client in
            // A single string still answers a list of rows.
            let one = try ServerFixture.decode([[Float]].self, try await ServerFixture.post(client, "/embed", ["inputs": parity.sentences[4]]))
            #expect(one.count == 1 && ServerFixture.maxDifference(one[0], parity.embedding(4)) <= 2e-4)

            let picked = [2, 14, 16, 19, 26]
            let rows = try ServerFixture.decode([[Float]].self, try await ServerFixture.post(
                client, "/embed", ["inputs": picked.map { parity.sentences[$0] }, "normalize": true]))
            for (row, i) in picked.enumerated() {
                #expect(ServerFixture.maxDifference(rows[row], parity.embedding(i)) <= 2e-4, "sentence \(i)")
            }

            // Longer than 256 tokens: 413 unless truncate.
            let long = parity.sentences[38]
            let refused = try await ServerFixture.post(client, "/embed", ["inputs": long])
            #expect(try ServerFixture.expectTEIError(refused, .contentTooLarge, type: "Validation").contains("256"))
            let cut = try ServerFixture.decode([[Float]].self, try await ServerFixture.post(client, "/embed", ["inputs": [long], "truncate": true]))
            #expect(ServerFixture.maxDifference(cut[0], parity.embedding(38)) <= 2e-4)

            let left = try await ServerFixture.post(client, "/embed", ["inputs": "hi", "truncation_direction": "Left"])
            try ServerFixture.expectTEIError(left, .unprocessableContent, type: "Validation")
        }
    }

    /// A copy of the model without its Normalize module: `normalize: true` normalizes on the
    /// server (giving sentence-transformers' vectors), `normalize: false` returns the raw mean pool.
    @Test func normalizeOnAModelWithoutNormalizeModule() async throws {
        let parity = try ServerFixture.parity()
        let dir = try Scratch.directory("serve-unnormalized")
        let source = URL(fileURLWithPath: ServerFixture.modelPath)
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) where name != "modules.json" {
            try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent(name), withDestinationURL: source.appendingPathComponent(name))
        }
        let modules = #"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}]"#
        try modules.write(to: dir.appendingPathComponent("modules.json"), atomically: true, encoding: .utf8)
        var config = Engine.Configuration()
        (config.model, config.policy) = (dir.path, .none)
        let served = ServedModel(name: "raw", engine: try Engine(configuration: config, backend: try #require(try TestBackends.backend("cpu"))))
        #expect(!served.normalizes)

        try await LiveServer.run(try ServerFixture.server([served])) { client in
            let unit = try ServerFixture.decode([[Float]].self, try await ServerFixture.post(client, "/embed", ["inputs": parity.sentences[7]]))
            #expect(ServerFixture.maxDifference(unit[0], parity.embedding(7)) <= 2e-4)
            let raw = try ServerFixture.decode([[Float]].self, try await ServerFixture.post(client, "/embed", ["inputs": parity.sentences[7], "normalize": false]))
            let norm = raw[0].reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) > 0.01, "the raw mean pool is not unit length: \(norm)")
            #expect(ServerFixture.maxDifference(raw[0].map { $0 / norm }, parity.embedding(7)) <= 2e-4)
        }
    }

    @Test func tokenizeMatchesHuggingFaceIds() async throws {
        let parity = try ServerFixture.parity()
        let picked = [0, 13, 15, 18, 21, 31]
        try await LiveServer.run(try ServerFixture.server()) { client in
            let tokens = try ServerFixture.decode([[Token]].self, try await ServerFixture.post(
                client, "/tokenize", ["inputs": picked.map { parity.sentences[$0] }]))
            for (row, i) in picked.enumerated() {
                #expect(tokens[row].map(\.id) == parity.ids(i), "sentence \(i)")
                #expect(tokens[row].first?.special == true && tokens[row].last?.special == true)
                #expect(tokens[row].first?.text == "[CLS]" && tokens[row].last?.text == "[SEP]")
                #expect(tokens[row].first?.start == nil && tokens[row].last?.stop == nil)
                #expect(tokens[row].dropFirst().dropLast().allSatisfy { !$0.special && $0.start != nil && $0.stop != nil })
            }
            let plain = try ServerFixture.decode([[Token]].self, try await ServerFixture.post(
                client, "/tokenize", ["inputs": "Hello world.", "add_special_tokens": false]))
            #expect(plain[0].map(\.text) == ["Hello", "world", "."])
            #expect(plain[0].map(\.start) == [0, 6, 11] && plain[0].map(\.stop) == [5, 11, 12])
            #expect(plain[0].map(\.id) == Array(parity.ids(0).dropFirst().dropLast()))
            // null offsets are sent as null, not left out
            let raw = try await ServerFixture.post(client, "/tokenize", ["inputs": "hi"])
            #expect(raw.text.contains(#""start":null"#) && raw.text.contains(#""stop":null"#))
            let ids = try await ServerFixture.post(client, "/tokenize", ["inputs": [101, 102]])
            try ServerFixture.expectTEIError(ids, .unprocessableContent, type: "Validation")
        }
    }

    @Test func infoAndHealth() async throws {
        try await LiveServer.run(try ServerFixture.server { $0.maxInputs = 7; $0.apiKey = nil }) { client in
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
            let info = try #require(try ServerFixture.json(try await client.execute(uri: "/info", method: .get)) as? [String: Any])
            #expect(info["model_id"] as? String == "all-MiniLM-L6-v2")
            #expect(info["max_input_length"] as? Int == 256)
            #expect(info["max_client_batch_size"] as? Int == 7)
            let model = try #require((info["models"] as? [[String: Any]])?.first)
            #expect(model["dimension"] as? Int == 384 && model["backend"] as? String == "cpu")
            #expect(model["normalized"] as? Bool == true)
            let catalog = try #require(model["catalog"] as? [String: Any])
            #expect(catalog["items"] as? Int == 40 && catalog["metric"] as? String == "cosine" && catalog["has_ids"] as? Bool == true)
            let limits = try #require(info["limits"] as? [String: Any])
            #expect(limits["max_inputs"] as? Int == 7 && limits["max_body_bytes"] as? Int == 4 << 20 && limits["auth_required"] as? Bool == false)
        }
    }
}
