import Foundation
import Hummingbird
import QuiverRuntime

/// OpenAI's embeddings API: `POST /v1/embeddings` and `GET /v1/models`.
/// Shapes follow https://platform.openai.com/docs/api-reference/embeddings.
enum OpenAIRoutes {
    struct EmbeddingRequest: Decodable {
        var input: EmbeddingInput
        var model: String?
        var encodingFormat: String?
        var dimensions: Int?
        var user: String?
        /// Quiver extension: cut long inputs instead of answering 413 (default: `--auto-truncate`).
        var truncate: Bool?

        enum CodingKeys: String, CodingKey {
            case input, model, dimensions, user, truncate
            case encodingFormat = "encoding_format"
        }
    }

    struct EmbeddingResponse: Encodable {
        var object = "list"
        var data: [Item]
        var model: String
        var usage: Usage

        struct Item: Encodable {
            var object = "embedding"
            var index: Int
            var embedding: Payload
        }

        struct Usage: Encodable {
            var promptTokens: Int
            var totalTokens: Int
            enum CodingKeys: String, CodingKey {
                case promptTokens = "prompt_tokens", totalTokens = "total_tokens"
            }
        }
    }

    /// An embedding as a JSON array of numbers, or base64 of its little-endian float32 bytes.
    enum Payload: Encodable {
        case floats([Float])
        case base64(String)

        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case let .floats(v): try c.encode(v)
            case let .base64(s): try c.encode(s)
            }
        }
    }

    struct ModelList: Encodable {
        var object = "list"
        var data: [Model]

        struct Model: Encodable {
            var id: String
            var object = "model"
            var created = 0
            var ownedBy = "quiver"
            enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by" }
        }
    }

    static func register(on router: Router<BasicRequestContext>, state: ServerState) {
        router.post("/v1/embeddings") { request, _ in
            let body = try await JSONBody.decode(EmbeddingRequest.self, from: request, limit: state.configuration.maxBodyBytes)
            return try JSONBody.response(try await embeddings(body, state: state))
        }
        router.get("/v1/models") { _, _ in
            try JSONBody.response(ModelList(data: state.registry.models.map { ModelList.Model(id: $0.name) }))
        }
    }

    static func embeddings(_ body: EmbeddingRequest, state: ServerState) async throws -> EmbeddingResponse {
        let model = try state.registry.resolve(body.model)
        let format = body.encodingFormat ?? "float"
        guard format == "float" || format == "base64" else {
            throw APIError.badRequest("`encoding_format` must be \"float\" or \"base64\", not \"\(format)\".", param: "encoding_format")
        }
        try EmbeddingService.checkDimensions(body.dimensions, model: model)
        let result = try await state.embeddings.embed(body.input, with: model, field: "input",
                                                      truncate: body.truncate ?? state.configuration.autoTruncate)
        let data = result.vectors.enumerated().map { i, v in
            EmbeddingResponse.Item(index: i, embedding: format == "base64" ? .base64(base64(v)) : .floats(v))
        }
        return EmbeddingResponse(data: data, model: model.name, usage: .init(promptTokens: result.tokens, totalTokens: result.tokens))
    }

    /// Base64 of `vector` as little-endian float32, what the `openai` Python client decodes.
    static func base64(_ vector: [Float]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(vector.count * 4)
        for v in vector {
            let bits = v.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
    }
}
