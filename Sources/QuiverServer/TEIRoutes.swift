import Foundation
import Hummingbird
import QuiverRuntime

/// Hugging Face text-embeddings-inference (TEI) routes: `POST /embed` here; `/tokenize` and
/// `/decode` in TEITokenRoutes.
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

    static func register(on router: Router<BasicRequestContext>, state: ServerState) {
        router.post("/embed") { request, _ in
            let body = try await JSONBody.decode(EmbedRequest.self, from: request, limit: state.configuration.maxBodyBytes)
            return try JSONBody.response(try await embed(body, state: state))
        }
        TEITokenRoutes.register(on: router, state: state)
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
}
