import Foundation
import Hummingbird
import QuiverRuntime

/// Hugging Face text-embeddings-inference (TEI) routes: `POST /embed`, `POST /tokenize`.
/// Request and response shapes are TEI's, and so are errors: `{"error", "error_type"}` with TEI's
/// statuses (`APIError.tei`).
/// Each request may add `"model"` to pick a served model (Quiver extension).
enum TEIRoutes {
    struct EmbedRequest: Decodable {
        var inputs: EmbeddingInput
        var normalize: Bool?
        var truncate: Bool?
        var truncationDirection: String?
        var promptName: String?
        var dimensions: Int?
        var model: String?

        enum CodingKeys: String, CodingKey {
            case inputs, normalize, truncate, dimensions, model
            case truncationDirection = "truncation_direction", promptName = "prompt_name"
        }
    }

    struct TokenizeRequest: Decodable {
        var inputs: EmbeddingInput
        var addSpecialTokens: Bool?
        var model: String?

        enum CodingKeys: String, CodingKey {
            case inputs, model
            case addSpecialTokens = "add_special_tokens"
        }
    }

    /// One token of `POST /tokenize`. `text` is the vocabulary entry (`##izer` for a word
    /// continuation); `start`/`stop` offsets are not tracked by Quiver's tokenizer and are null.
    struct Token: Encodable {
        var id: Int32
        var text: String
        var special: Bool

        enum CodingKeys: String, CodingKey { case id, text, special, start, stop }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(text, forKey: .text)
            try c.encode(special, forKey: .special)
            try c.encodeNil(forKey: .start)
            try c.encodeNil(forKey: .stop)
        }
    }

    static func register(on router: Router<BasicRequestContext>, state: ServerState) {
        router.post("/embed") { request, _ in
            let body = try await JSONBody.decode(EmbedRequest.self, from: request, limit: state.configuration.maxBodyBytes)
            return try JSONBody.response(try await embed(body, state: state))
        }
        router.post("/tokenize") { request, _ in
            let body = try await JSONBody.decode(TokenizeRequest.self, from: request, limit: state.configuration.maxBodyBytes)
            return try JSONBody.response(try tokenize(body, state: state))
        }
    }

    /// `[[Float]]`: one row per input, even for a single string (as TEI answers).
    static func embed(_ body: EmbedRequest, state: ServerState) async throws -> [[Float]] {
        let model = try state.registry.resolve(body.model)
        if let direction = body.truncationDirection, direction.lowercased() != "right" {
            throw APIError.badRequest("`truncation_direction` \"\(direction)\" is not supported; Quiver truncates on the right.",
                                      code: "unsupported", param: "truncation_direction")
        }
        if let prompt = body.promptName {
            throw APIError.badRequest("`prompt_name` \"\(prompt)\" is not supported: `\(model.name)` defines no prompts.",
                                      code: "unknown_prompt", param: "prompt_name")
        }
        try EmbeddingService.checkDimensions(body.dimensions, model: model)
        let result = try await state.embeddings.embed(body.inputs, with: model, field: "inputs",
                                                      truncate: body.truncate ?? state.configuration.autoTruncate)
        return try EmbeddingService.applyNormalize(body.normalize ?? true, to: result.vectors, model: model)
    }

    /// Tokens of each text, untruncated, with or without [CLS]/[SEP].
    static func tokenize(_ body: TokenizeRequest, state: ServerState) throws -> [[Token]] {
        let model = try state.registry.resolve(body.model)
        guard let tokenizer = model.engine.tokenizer?.tokenizer else {
            throw APIError.badRequest("`\(model.name)` serves a catalog only; it has no tokenizer.", code: "no_text_model", param: "model")
        }
        guard case let .texts(texts) = body.inputs else {
            throw APIError.badRequest("`inputs` must be a string or an array of strings.", code: "invalid_type", param: "inputs")
        }
        try state.embeddings.checkCount(texts.count, field: "inputs")
        let special = body.addSpecialTokens ?? true
        return texts.map { text in
            let ids = tokenizer.encode(text, maxLength: Int.max)
            let pieces = tokenizer.tokenize(text)
            var tokens = zip(ids.dropFirst(), pieces).map { Token(id: $0, text: $1, special: false) }
            if special {
                tokens.insert(Token(id: tokenizer.clsId, text: "[CLS]", special: true), at: 0)
                tokens.append(Token(id: tokenizer.sepId, text: "[SEP]", special: true))
            }
            return tokens
        }
    }
}
