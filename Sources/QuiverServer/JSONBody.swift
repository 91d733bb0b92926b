import Foundation
import Hummingbird

/// Reading JSON request bodies (with the size limit, and errors that name the field at fault)
/// and writing JSON responses.
enum JSONBody {
    /// Decodes the body of `request` as `T`; at most `limit` bytes.
    /// - Throws: `APIError` 413 for a larger body, 400 for an empty body, invalid JSON or wrong types.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw tooLarge(length, limit)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw tooLarge(nil, limit)
        }
        guard buffer.readableBytes > 0 else {
            throw APIError.badRequest("The request body is empty; send a JSON object.", code: "invalid_json")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw describe(error)
        }
    }

    /// A 200 (or `status`) response with `value` as JSON; a `JSONWritable` value writes itself.
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        if let writable = value as? any JSONWritable {
            var out: [UInt8] = []
            if writable.writeJSON(into: &out) {
                return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: out)))
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private static func tooLarge(_ length: Int?, _ limit: Int) -> APIError {
        let size = length.map { "\($0) bytes" } ?? "more than \(limit) bytes"
        return .tooLarge("The request body has \(size); this server accepts at most \(limit) (--max-body-bytes).", code: "body_too_large")
    }

    /// A 400 naming the field (`input[2]`, `history[0].weight`) and what it should have been.
    static func describe(_ error: DecodingError) -> APIError {
        switch error {
        case let .typeMismatch(type, context):
            let path = path(context.codingPath)
            if path.isEmpty { return .badRequest("The request body must be a JSON object.", code: "invalid_type") }
            return .badRequest("`\(path)` must be \(name(of: type)).", code: "invalid_type", param: path)
        case let .valueNotFound(type, context):
            let path = path(context.codingPath)
            return .badRequest("`\(path)` must be \(name(of: type)), not null.", code: "invalid_type", param: path)
        case let .keyNotFound(key, context):
            let path = path(context.codingPath + [key])
            return .badRequest("The required field `\(path)` is missing.", code: "missing_field", param: path)
        case let .dataCorrupted(context):
            let path = path(context.codingPath)
            if path.isEmpty {
                let detail = (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
                return .badRequest("The request body is not valid JSON" + (detail.map { ": \($0)" } ?? "."), code: "invalid_json")
            }
            return .badRequest("`\(path)` \(context.debugDescription)", code: "invalid_value", param: path)
        @unknown default:
            return .badRequest("The request body could not be read: \(error)", code: "invalid_json")
        }
    }

    /// `a.b[2].c` from a coding path.
    static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let index = key.intValue, key.stringValue.hasPrefix("Index") || key.stringValue == String(index) {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return out
    }

    private static func name(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Int32.Type: "an integer"
        case is Float.Type, is Double.Type: "a number"
        case is [Any].Type: "an array"
        default: String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}
