import Foundation
import Hummingbird
import QuiverRuntime

/// TEI's routes for model heads Quiver does not serve: `POST /rerank` (re-rankers), `POST /predict`
/// (sequence classifiers), `POST /embed_sparse` (SPLADE). Quiver serves embedding models only, so
/// a well-formed request gets what TEI answers an embedding model: 424 with error_type Backend
/// and TEI's message, after TEI's own checks that come first (empty → 400 Empty, more inputs than
/// `--max-inputs` → 413 Validation). Bodies are decoded as TEI's request types, so a malformed one
/// is 422 as in TEI. Order and messages follow router/src/http/server.rs and core/src/infer.rs.
enum TEIHeadRoutes {
    /// `{"query", "texts": [...], "truncate", "truncation_direction", "raw_scores", "return_text"}`.
    struct RerankRequest: Decodable {
        var query: String
        var texts: [String]
        var truncate: Bool?
        var truncationDirection: String?
        var rawScores: Bool?
        var returnText: Bool?
        var model: String?

        enum CodingKeys: String, CodingKey {
            case query, texts, truncate, model
            case truncationDirection = "truncation_direction", rawScores = "raw_scores", returnText = "return_text"
        }
    }

    /// `{"inputs": text | [text, text] | [[text] | [text, text]], "truncate", "raw_scores", …}`.
    struct PredictRequest: Decodable {
        var inputs: PredictInput
        var truncate: Bool?
        var truncationDirection: String?
        var rawScores: Bool?
        var model: String?

        enum CodingKeys: String, CodingKey {
            case inputs, truncate, model
            case truncationDirection = "truncation_direction", rawScores = "raw_scores"
        }
    }

    /// TEI's `PredictInput`: one text, one pair, or a batch of single texts and pairs.
    enum PredictInput: Decodable {
        case single
        case batch(count: Int)

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if (try? c.decode(String.self)) != nil {
                self = .single
            } else if let pair = try? c.decode([String].self), pair.count == 2 {
                self = .single
            } else if let batch = try? c.decode([[String]].self), batch.allSatisfy({ (1...2).contains($0.count) }) {
                self = .batch(count: batch.count)
            } else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                        debugDescription: "must be a text, a pair of texts, or an array of single texts and pairs."))
            }
        }
    }

    /// `{"inputs": ..., "truncate", "truncation_direction", "prompt_name"}` (TEI's `EmbedSparseRequest`).
    struct EmbedSparseRequest: Decodable {
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

    /// TEI's messages: `TextEmbeddingsError::Backend(BackendError::Inference(...))` displayed.
    static let notReranker = "Backend error: model is not a re-ranker model"
    static let notClassifier = "Backend error: Model is not a classifier model"
    static let notSplade = "Backend error: Model is not an embedding model with SPLADE pooling"

    static func register(on router: Router<BasicRequestContext>, state: ServerState) {
        let limit = state.configuration.maxBodyBytes
        router.post("/rerank") { request, _ -> Response in
            let body = try await JSONBody.decode(RerankRequest.self, from: request, limit: limit)
            _ = try state.registry.resolve(body.model)
            guard !body.texts.isEmpty else {
                throw APIError.badRequest("`texts` cannot be empty", code: "empty_input", param: "texts")
            }
            throw modelType(notReranker)
        }
        router.post("/predict") { request, _ -> Response in
            let body = try await JSONBody.decode(PredictRequest.self, from: request, limit: limit)
            _ = try state.registry.resolve(body.model)
            if case let .batch(count) = body.inputs {
                guard count > 0 else { throw APIError.badRequest("`inputs` cannot be empty", code: "empty_input", param: "inputs") }
                try state.embeddings.checkCount(count, field: "inputs")
            }
            throw modelType(notClassifier)
        }
        router.post("/embed_sparse") { request, _ -> Response in
            let body = try await JSONBody.decode(EmbedSparseRequest.self, from: request, limit: limit)
            _ = try state.registry.resolve(body.model)
            try state.embeddings.checkCount(body.inputs.count, field: "inputs")
            throw modelType(notSplade)
        }
    }

    private static func modelType(_ message: String) -> APIError {
        APIError(.init(code: 424, reasonPhrase: "Failed Dependency"), message, type: "server_error", code: "model_type")
    }
}
