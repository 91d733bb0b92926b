import Foundation
import Hummingbird
import QuiverRuntime
@testable import QuiverServer
import Testing

/// `POST /v1/embeddings` over real HTTP: every input form gives sentence-transformers' vectors
/// (the parity fixture), base64 decodes to the float response bit for bit, usage counts tokens,
/// and `model` / `dimensions` / `encoding_format` are checked like OpenAI does.
@Suite(.serialized) struct OpenAIEmbeddingsTests {
    struct Response: Decodable {
        struct Item: Decodable { var object: String; var index: Int; var embedding: [Float] }
        struct Usage: Decodable { var prompt_tokens: Int; var total_tokens: Int }
        var object: String
        var data: [Item]
        var model: String
        var usage: Usage
    }

    struct Base64Response: Decodable {
        struct Item: Decodable { var index: Int; var embedding: String }
        var data: [Item]
    }

    /// Little-endian float32 from base64, the way the `openai` client reads it.
    static func floats(base64: String) throws -> [Float] {
        let data = try #require(Data(base64Encoded: base64))
        #expect(data.count % 4 == 0)
        let bytes = [UInt8](data)
        return stride(from: 0, to: bytes.count, by: 4).map { i in
            var bits = UInt32(bytes[i + 3])
            for j in (0..<3).reversed() { bits = bits << 8 | UInt32(bytes[i + j]) }
            return Float(bitPattern: bits)
        }
    }

    @Test func everyInputFormMatchesSentenceTransformers() async throws {
        let parity = try ServerFixture.parity()
        let picked = [0, 1, 13, 15, 18, 37]  // short, accents, CJK, emoji, > 256 tokens (truncated)
        let texts = picked.map { parity.sentences[$0] }
        try await LiveServer.run(try ServerFixture.server()) { client in
            // A single string.
            let one = try ServerFixture.decode(Response.self, try await ServerFixture.post(
                client, "/v1/embeddings", ["input": texts[0], "model": "all-MiniLM-L6-v2"]))
            #expect(one.object == "list" && one.model == "all-MiniLM-L6-v2" && one.data.map(\.index) == [0])
            #expect(one.data[0].object == "embedding")
            #expect(ServerFixture.maxDifference(one.data[0].embedding, parity.embedding(picked[0])) <= 2e-4)
            #expect(one.usage.prompt_tokens == parity.ids(picked[0]).count && one.usage.total_tokens == one.usage.prompt_tokens)

            // An array of strings (the long one is truncated to 256 tokens like sentence-transformers).
            let many = try ServerFixture.decode(Response.self, try await ServerFixture.post(
                client, "/v1/embeddings", ["input": texts, "model": "all-MiniLM-L6-v2", "truncate": true]))
            #expect(many.data.map(\.index) == Array(0..<texts.count))
            for (row, i) in picked.enumerated() {
                let error = ServerFixture.maxDifference(many.data[row].embedding, parity.embedding(i))
                #expect(error <= 2e-4, "sentence \(i): max |Δ| \(error)")
            }
            #expect(many.usage.prompt_tokens == picked.map { parity.ids($0).count }.reduce(0, +))

            // Token ids (one array) and arrays of token ids: Hugging Face's ids give the same vectors.
            let ids = try ServerFixture.decode(Response.self, try await ServerFixture.post(
                client, "/v1/embeddings", ["input": parity.ids(picked[1]), "model": "all-MiniLM-L6-v2"]))
            #expect(ServerFixture.maxDifference(ids.data[0].embedding, parity.embedding(picked[1])) <= 2e-4)
            let rows = try ServerFixture.decode(Response.self, try await ServerFixture.post(
                client, "/v1/embeddings", ["input": picked.prefix(4).map { parity.ids($0) }, "model": "all-MiniLM-L6-v2"]))
            for (row, i) in picked.prefix(4).enumerated() {
                #expect(ServerFixture.maxDifference(rows.data[row].embedding, parity.embedding(i)) <= 2e-4, "ids of sentence \(i)")
            }
            #expect(rows.usage.prompt_tokens == picked.prefix(4).map { parity.ids($0).count }.reduce(0, +))
        }
    }

    /// The encoding itself, bit for bit: little-endian float32, standard base64.
    @Test func base64IsLittleEndianFloat32() throws {
        #expect(OpenAIRoutes.base64([1]) == "AACAPw==")  // 1.0f = 00 00 80 3F
        let values: [Float] = [0, -0.0, 1, -2.5, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1, -123.456]
        #expect(ServerFixture.bitMismatches(try Self.floats(base64: OpenAIRoutes.base64(values)), values) == 0)
    }

    /// Over HTTP, `encoding_format: base64` decodes to the float response (two runs of the model,
    /// which may differ in the last bits when batched differently, hence the 1e-6).
    @Test func base64ResponseDecodesToTheFloatResponse() async throws {
        let texts = try ServerFixture.parity().sentences.prefix(4).map { $0 }
        try await LiveServer.run(try ServerFixture.server()) { client in
            let floats = try ServerFixture.decode(Response.self, try await ServerFixture.post(
                client, "/v1/embeddings", ["input": texts, "model": "all-MiniLM-L6-v2", "encoding_format": "float"]))
            let encoded = try ServerFixture.decode(Base64Response.self, try await ServerFixture.post(
                client, "/v1/embeddings", ["input": texts, "model": "all-MiniLM-L6-v2", "encoding_format": "base64"]))
            #expect(encoded.data.map(\.index) == [0, 1, 2, 3])
            for i in 0..<4 {
                let decoded = try Self.floats(base64: encoded.data[i].embedding)
                #expect(decoded.count == 384)
                #expect(ServerFixture.maxDifference(decoded, floats.data[i].embedding) <= 1e-6)
            }
        }
    }

    @Test func modelDimensionsAndFormatAreChecked() async throws {
        try await LiveServer.run(try ServerFixture.server()) { client in
            // Unknown model: 404 in OpenAI's shape; the Hugging Face id of a served model is accepted.
            let unknown = try await ServerFixture.post(client, "/v1/embeddings", ["input": "hi", "model": "text-embedding-3-small"])
            let message = try ServerFixture.expectError(unknown, .notFound, code: "model_not_found")
            #expect(message.contains("text-embedding-3-small") && message.contains("all-MiniLM-L6-v2"))
            let byHubId = try await ServerFixture.post(client, "/v1/embeddings", ["input": "hi", "model": "sentence-transformers/all-MiniLM-L6-v2"])
            #expect(byHubId.status == .ok)
            let noModel = try await ServerFixture.post(client, "/v1/embeddings", ["input": "hi"])
            #expect(noModel.status == .ok)

            // dimensions: only the model's own width.
            let shorter = try await ServerFixture.post(client, "/v1/embeddings", ["input": "hi", "model": "all-MiniLM-L6-v2", "dimensions": 128])
            #expect(try ServerFixture.expectError(shorter, .badRequest, code: "invalid_dimensions").contains("384"))
            let same = try await ServerFixture.post(client, "/v1/embeddings", ["input": "hi", "model": "all-MiniLM-L6-v2", "dimensions": 384])
            #expect(same.status == .ok)

            let format = try await ServerFixture.post(client, "/v1/embeddings", ["input": "hi", "model": "all-MiniLM-L6-v2", "encoding_format": "int8"])
            try ServerFixture.expectError(format, .badRequest, code: "invalid_value")

            let models = try ServerFixture.json(try await client.execute(uri: "/v1/models", method: .get)) as? [String: Any]
            let ids = (models?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == ["all-MiniLM-L6-v2"])
        }
    }

    @Test func severalModelsAreSelectedByName() async throws {
        let engine = try ServerFixture.shared.get()
        let a = ServedModel(name: "a", engine: engine), b = ServedModel(name: "b", engine: try ServerFixture.engine(catalog: false))
        try await LiveServer.run(try ServerFixture.server([a, b])) { client in
            let fromA = try ServerFixture.decode(Response.self, try await ServerFixture.post(client, "/v1/embeddings", ["input": "a dog", "model": "a"]))
            let fromB = try ServerFixture.decode(Response.self, try await ServerFixture.post(client, "/v1/embeddings", ["input": "a dog", "model": "b"]))
            #expect(fromA.model == "a" && fromB.model == "b")
            #expect(ServerFixture.maxDifference(fromA.data[0].embedding, fromB.data[0].embedding) <= 1e-6)
            // Only `b` has no catalog.
            let search = try await ServerFixture.post(client, "/search", ["query": "a dog", "model": "b"])
            try ServerFixture.expectError(search, .badRequest, code: "no_catalog")
        }
    }
}
