import Foundation
import Hummingbird
import QuiverRuntime

/// An error answered with an HTTP status, a JSON body and, for overload, a `Retry-After` header.
/// The body is OpenAI's `{"error": {"message", "type", "code", "param"}}` on the OpenAI routes and
/// Quiver's own, and TEI's `{"error", "error_type"}` (with TEI's statuses, see `tei`) on TEI's
/// routes (`ErrorShape`).
public struct APIError: Error, HTTPResponseError, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    /// Error class: `invalid_request_error`, `authentication_error`, `overloaded_error`, …
    public var type: String
    /// Machine-readable reason: `invalid_json`, `model_not_found`, `too_many_inputs`, …
    public var code: String
    /// Request field at fault, when there is one.
    public var param: String?
    /// Seconds to wait before retrying (429 and 503).
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ message: String, type: String = "invalid_request_error", code: String,
                param: String? = nil, retryAfter: Int? = nil) {
        (self.status, self.message, self.type, self.code, self.param, self.retryAfter) = (status, message, type, code, param, retryAfter)
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    // MARK: common errors

    static func badRequest(_ message: String, code: String = "invalid_value", param: String? = nil) -> APIError {
        APIError(.badRequest, message, code: code, param: param)
    }

    static func tooLarge(_ message: String, code: String, param: String? = nil) -> APIError {
        APIError(.contentTooLarge, message, code: code, param: param)
    }

    static func modelNotFound(_ name: String, served: [String]) -> APIError {
        APIError(.notFound, "The model `\(name)` does not exist on this server; it serves \(served.map { "`\($0)`" }.joined(separator: ", ")).",
                 code: "model_not_found", param: "model")
    }

    static let unauthorized = APIError(.unauthorized, "Missing or wrong API key: send the header `Authorization: Bearer <key>`.",
                                       type: "authentication_error", code: "invalid_api_key")

    // MARK: mapping

    /// The API error for anything a handler threw: engine and scheduler errors get their own
    /// statuses; anything unexpected is a 500 that still carries the JSON shape.
    public init(_ error: any Error) {
        switch error {
        case let error as APIError:
            self = error
        case let error as SchedulerError:
            self = Self.scheduler(error)
        case let error as QuiverError:
            switch error {
            case .invalidArgument, .shapeMismatch:
                self = .badRequest(error.description)
            default:
                self = APIError(.internalServerError, error.description, type: "server_error", code: "engine_error")
            }
        case is CancellationError:
            self = APIError(.serviceUnavailable, "The request was cancelled before it finished.", type: "unavailable_error",
                            code: "cancelled")
        case let error as any HTTPResponseError:
            self = Self.http(error.status, route: nil)
        default:
            self = APIError(.internalServerError, "Internal error: \(error)", type: "server_error", code: "internal_error")
        }
    }

    private static func scheduler(_ error: SchedulerError) -> APIError {
        switch error {
        case .overloaded:
            return APIError(.tooManyRequests, "The server is overloaded (\(error)).", type: "overloaded_error",
                            code: "overloaded", retryAfter: 1)
        case .deadlineExceeded:
            return APIError(.serviceUnavailable, "The request could not finish within its deadline and was not run (\(error)); retry, or lower the load.",
                            type: "unavailable_error", code: "deadline_exceeded", retryAfter: 1)
        case .shutDown:
            return APIError(.serviceUnavailable, "The server is shutting down.", type: "unavailable_error", code: "shutting_down")
        case .responseCountMismatch:
            return APIError(.internalServerError, error.description, type: "server_error", code: "engine_error")
        }
    }

    /// Hummingbird's own errors; `route` (`GET /x`) names an unmatched request.
    static func http(_ status: HTTPResponse.Status, route: String?) -> APIError {
        switch status {
        case .notFound:
            return APIError(.notFound, "No route \(route ?? "here"); this server has \(QuiverServer.routeList).", code: "not_found")
        case .contentTooLarge:
            return .tooLarge("The request body is too large.", code: "body_too_large")
        default:
            return APIError(status, status.reasonPhrase, type: status.code >= 500 ? "server_error" : "invalid_request_error",
                            code: "http_\(status.code)")
        }
    }

    // MARK: response

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response(shape: ErrorShape(path: request.uri.path))
    }

    /// The JSON error response in `shape`. `headers` are added (e.g. `Allow` for a 405).
    func response(shape: ErrorShape, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        headers.append(contentsOf: extra)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body: Data, status: HTTPResponse.Status
        switch shape {
        case .openAI:
            status = self.status
            body = (try? encoder.encode(Envelope(error: self))) ?? Data(#"{"error":{"message":"error","type":"server_error","code":"internal_error"}}"#.utf8)
        case .tei:
            let (type, teiStatus) = tei
            status = teiStatus
            body = (try? encoder.encode(TEIBody(error: message, errorType: type))) ?? Data(#"{"error":"error","error_type":"Backend"}"#.utf8)
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private struct Envelope: Encodable {
        var error: APIError
    }
}

extension APIError: Encodable {
    private enum Keys: String, CodingKey { case message, type, code, param }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(message, forKey: .message)
        try c.encode(type, forKey: .type)
        try c.encode(code, forKey: .code)
        try c.encode(param, forKey: .param)  // null when absent, as OpenAI sends it
    }
}
