import Foundation
import Hummingbird
import QuiverRuntime

/// Hugging Face text-embeddings-inference (TEI) routes: `POST /embed` and `POST /embed_all` here;
/// `/tokenize` and `/decode` in TEITokenRoutes.
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

    /// `POST /embed_all`: TEI's `EmbedAllRequest` (no `normalize`: hidden states are not normalized).
    struct EmbedAllRequest: Decodable {
        var inputs: EmbeddingInput
        var truncate: Bool?
        var truncationDirection: String?
        var promptName: String?
        var model: String?

        enum CodingKeys: String, CodingKey {
            case inputs, truncate, model
            case truncationDirection = "truncation_direction", promptName = "prompt_name"
        }
    }

    static func register(on router: Router<BasicRequestContext>, state: ServerState) {
        router.post("/embed") { request, _ in
            let body = try await JSONBody.decode(EmbedRequest.self, from: request, limit: state.configuration.maxBodyBytes)
            return try JSONBody.response(FloatRows(rows: try await embed(body, state: state)))
        }
        router.post("/embed_all") { request, _ in
            let body = try await JSONBody.decode(EmbedAllRequest.self, from: request, limit: state.configuration.maxBodyBytes)
            return try JSONBody.response(FloatRowGroups(groups: try await embedAll(body, state: state)))
        }
        TEITokenRoutes.register(on: router, state: state)
    }

    /// `[[Float]]`: one row per input, even for a single string (as TEI answers). `normalize`
    /// (default true) gives unit-length rows; false gives the pooled vectors before any Normalize
    /// module of the model, as TEI does.
    static func embed(_ body: EmbedRequest, state: ServerState) async throws -> [[Float]] {
        let model = try state.registry.resolve(body.model)
        try checkOptions(direction: body.truncationDirection, prompt: body.promptName, model: model)
        try EmbeddingService.checkDimensions(body.dimensions, model: model)
        let normalize = body.normalize ?? true
        let result = try await state.embeddings.embed(body.inputs, with: model, field: "inputs",
                                                      truncate: body.truncate ?? state.configuration.autoTruncate,
                                                      output: EmbeddingService.output(normalize: normalize))
        return normalize ? EmbeddingService.normalizeRows(result.vectors, model: model) : result.vectors
    }

    /// `[[[Float]]]`, `[inputs][tokens][dimension]`: the encoder's last hidden state of every
    /// token of each input, [CLS] and [SEP] included, as TEI's /embed_all. Same limits, truncate
    /// rule and errors as /embed.
    static func embedAll(_ body: EmbedAllRequest, state: ServerState) async throws -> [[[Float]]] {
        let model = try state.registry.resolve(body.model)
        try checkOptions(direction: body.truncationDirection, prompt: body.promptName, model: model)
        let result = try await state.embeddings.embed(body.inputs, with: model, field: "inputs",
                                                      truncate: body.truncate ?? state.configuration.autoTruncate, output: .tokens)
        let d = model.engine.dimension ?? 1
        return result.vectors.map { row in stride(from: 0, to: row.count, by: d).map { Array(row[$0..<($0 + d)]) } }
    }

    /// Quiver truncates on the right only and has no prompts (TEI's `prompt_name` of an unknown
    /// prompt is its 413 Validation).
    private static func checkOptions(direction: String?, prompt: String?, model: ServedModel) throws {
        if let direction, direction.lowercased() != "right" {
            throw APIError.badRequest("`truncation_direction` \"\(direction)\" is not supported; Quiver truncates on the right.",
                                      code: "unsupported", param: "truncation_direction")
        }
        if let prompt {
            throw APIError.badRequest("`prompt_name` \"\(prompt)\" is not supported: `\(model.name)` defines no prompts.",
                                      code: "unknown_prompt", param: "prompt_name")
        }
    }
}
