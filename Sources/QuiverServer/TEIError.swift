import Foundation
import Hummingbird

/// text-embeddings-inference's error classes: the `error_type` of its error body
/// `{"error": "...", "error_type": "Validation"}`, each answered with TEI's status for it
/// (router/src/http/server.rs, `From<&ErrorType> for StatusCode`).
enum TEIErrorType: String, Encodable, Sendable {
    case Unhealthy, Backend, Overloaded, Validation, Tokenizer, Empty

    /// TEI's status: 503, 424, 429, 413, 422, 400.
    var status: HTTPResponse.Status {
        switch self {
        case .Unhealthy: .serviceUnavailable
        case .Backend: .init(code: 424, reasonPhrase: "Failed Dependency")
        case .Overloaded: .tooManyRequests
        case .Validation: .contentTooLarge
        case .Tokenizer: .unprocessableContent
        case .Empty: .badRequest
        }
    }
}

/// Which JSON error body a route answers with.
enum ErrorShape: Sendable {
    /// `{"error": {"message", "type", "code", "param"}}`: the OpenAI routes and Quiver's own.
    case openAI
    /// `{"error": "...", "error_type": "..."}`: TEI's routes.
    case tei

    /// TEI's routes (the ones TEI serves under the same path and method).
    static let teiPaths: Set<String> = ["/embed", "/embed_all", "/embed_sparse", "/tokenize", "/decode", "/rerank", "/predict"]

    init(path: String) { self = Self.teiPaths.contains(path) ? .tei : .openAI }
}

extension APIError {
    /// The error as a TEI route reports it: TEI's class and status where TEI has the same
    /// condition, else the closest class with Quiver's status (TEI has no deadlines, API key
    /// body, model selection or 405 body).
    ///
    /// | Quiver `code` | `error_type` | status |
    /// |---|---|---|
    /// | `overloaded` | Overloaded | 429 |
    /// | `deadline_exceeded` | Overloaded | 503 |
    /// | `shutting_down`, `cancelled` | Unhealthy | 503 |
    /// | `model_type`, `no_text_model`, `engine_error`, other 5xx | Backend | 424 |
    /// | `input_too_long`, `too_many_inputs`, `body_too_large`, `unknown_prompt` | Validation | 413 |
    /// | `empty_input` | Empty | 400 |
    /// | `invalid_json` (not JSON at all) | Validation | 400 |
    /// | `invalid_type`, `missing_field`, `invalid_value`, `unsupported`, `invalid_dimensions` | Validation | 422 |
    /// | `invalid_token_id` | Tokenizer | 422 |
    /// | anything else (401, 404, 405) | Validation | its own |
    ///
    /// Malformed bodies get axum's statuses (TEI's framework): 400 for bad JSON, 422 for JSON
    /// that does not fit the request.
    var tei: (type: TEIErrorType, status: HTTPResponse.Status) {
        switch code {
        case "overloaded": (.Overloaded, TEIErrorType.Overloaded.status)
        case "deadline_exceeded": (.Overloaded, .serviceUnavailable)
        case "shutting_down", "cancelled": (.Unhealthy, TEIErrorType.Unhealthy.status)
        case "model_type", "no_text_model", "engine_error", "internal_error": (.Backend, TEIErrorType.Backend.status)
        case "input_too_long", "too_many_inputs", "body_too_large", "unknown_prompt": (.Validation, TEIErrorType.Validation.status)
        case "empty_input": (.Empty, TEIErrorType.Empty.status)
        case "invalid_json": (.Validation, .badRequest)
        case "invalid_type", "missing_field", "invalid_value", "unsupported", "invalid_dimensions": (.Validation, .unprocessableContent)
        case "invalid_token_id": (.Tokenizer, TEIErrorType.Tokenizer.status)
        default: status.code >= 500 ? (.Backend, TEIErrorType.Backend.status) : (.Validation, status)
        }
    }

    /// `{"error": message, "error_type": type}`.
    struct TEIBody: Encodable {
        var error: String
        var errorType: TEIErrorType
        enum CodingKeys: String, CodingKey { case error, errorType = "error_type" }
    }
}
