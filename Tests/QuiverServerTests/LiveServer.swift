import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import QuiverServer

/// Runs a `QuiverServer` on a free loopback port while a test talks to it over real HTTP
/// (URLSession), then stops it. (HummingbirdTesting would do the same but brings an HTTP client
/// and TLS stack that would double the dependency build.)
enum LiveServer {
    struct Client: Sendable {
        let port: Int

        /// Sends one request; any status comes back as a response, not an error.
        func execute(uri: String, method: HTTPRequest.Method, headers: [String: String] = [:], body: Data? = nil) async throws -> Response {
            var request = URLRequest(url: try require(URL(string: "http://127.0.0.1:\(port)\(uri)")))
            request.httpMethod = method.rawValue
            request.timeoutInterval = 120
            request.httpBody = body
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            let (data, response) = try await URLSession.shared.data(for: request)
            let http = try require(response as? HTTPURLResponse)
            var fields: [String: String] = [:]
            for (name, value) in http.allHeaderFields {
                if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
            }
            return Response(status: HTTPResponse.Status(code: http.statusCode), headers: fields, body: data)
        }
    }

    struct Response: Sendable {
        var status: HTTPResponse.Status
        /// Header names lowercased.
        var headers: [String: String]
        var body: Data

        var text: String { String(decoding: body, as: UTF8.self) }
    }

    struct NotStarted: Error {}

    /// Starts `server` on port 0, runs `body` with a client for it, then cancels the server.
    static func run<T: Sendable>(_ server: QuiverServer, _ body: @Sendable (Client) async throws -> T) async throws -> T {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { continuation.finish() }
                try await server.application(onRunning: { continuation.yield($0) }).run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await group.next()  // the server's own error, if it threw one
                throw NotStarted()
            }
            defer { group.cancelAll() }
            return try await body(Client(port: port))
        }
    }
}

/// Unwraps, or fails the request.
private func require<T>(_ value: T?) throws -> T {
    guard let value else { throw LiveServer.NotStarted() }
    return value
}
