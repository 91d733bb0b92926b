import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import QuiverRuntime

/// An OpenAI-style embeddings endpoint as a benchmark target: each request is
/// `POST {base}/v1/embeddings` with `{"input": "...", "model": "..."}`, sent by a lean SwiftNIO
/// HTTP/1.1 client (`HTTPConnectionPool`): keep-alive connections, a new one whenever all are busy
/// (up to `connections`), so an open-loop load is not queued in the client. Only the embed
/// workload has a standard HTTP form; the server's scheduler counters are not visible from here.
public final class HTTPTarget: BenchTarget {
    public let endpoint: URL
    public let model: String?
    private let pool: HTTPConnectionPool
    private let hostHeader: String
    private let path: String

    /// - Parameters:
    ///   - url: the server (`http://host:port`, a path prefix allowed) or the full embeddings URL.
    ///   - model: the `model` field of each request; omitted when nil.
    ///   - timeout: seconds before a request counts as failed.
    ///   - connections: most connections open at once; a request that finds all of them busy waits.
    public init(url: String, model: String?, timeout: TimeInterval = 60, connections: Int = 512) throws {
        endpoint = try Self.endpoint(url)
        self.model = model
        guard connections >= 1 else { throw QuiverError.invalidArgument("--connections must be at least 1") }
        let host = endpoint.host ?? "127.0.0.1"
        let port = endpoint.port ?? 80
        hostHeader = endpoint.port.map { "\(host):\($0)" } ?? host
        let components = URLComponents(url: endpoint, resolvingAgainstBaseURL: false)
        path = (components?.percentEncodedPath ?? "/v1/embeddings") + (components?.percentEncodedQuery.map { "?" + $0 } ?? "")
        pool = HTTPConnectionPool(host: host, port: port, maxConnections: connections,
                                  timeout: .nanoseconds(Int64(max(0.001, timeout) * 1e9)),
                                  loop: MultiThreadedEventLoopGroup.singleton.next())
    }

    /// The embeddings URL for `--url`: `/v1/embeddings` appended unless the path already ends so.
    /// Plain `http` only: the client has no TLS (benchmark the server, not a proxy in front of it).
    public static func endpoint(_ url: String) throws -> URL {
        guard let base = URL(string: url), let scheme = base.scheme?.lowercased(), base.host != nil, scheme == "http" || scheme == "https" else {
            throw QuiverError.invalidArgument("--url \(url) is not an http URL; give e.g. http://127.0.0.1:8080")
        }
        guard scheme == "http" else {
            throw QuiverError.invalidArgument("--url \(url): quiver bench speaks plain HTTP/1.1 only; point it at the server's http:// address")
        }
        if base.path.hasSuffix("/v1/embeddings") { return base }
        var text = url
        while text.hasSuffix("/") { text.removeLast() }
        return URL(string: text + "/v1/embeddings")!
    }

    /// The JSON body for one text: `{"input":"…","model":"…"}` (keys sorted, strings escaped per RFC 8259).
    public static func body(for text: String, model: String?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + (model?.utf8.count ?? 0) + 32)
        out += Array(#"{"input":"#.utf8)
        JSONText.appendString(&out, text)
        if let model {
            out += Array(#","model":"#.utf8)
            JSONText.appendString(&out, model)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The request head for a body of `length` bytes.
    func head(contentLength length: Int) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "Host", value: hostHeader)
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(length))
        return head
    }

    public func send(_ request: BenchRequest) async -> BenchOutcome {
        guard case let .embed(text) = request else { return .failed("only the embed workload can be sent over HTTP") }
        let bytes = Self.body(for: text, model: model)
        do {
            let reply = try await pool.execute(head: head(contentLength: bytes.count), body: ByteBuffer(bytes: bytes))
            if (200..<300).contains(reply.status) { return .ok }
            return Self.outcome(status: reply.status, body: Data(reply.body.readableBytesView))
        } catch {
            return .failed(String(describing: error))
        }
    }

    /// Connections the client has opened so far (keep-alive: far fewer than requests).
    public func connectionsOpened() async -> Int { await pool.connectionsOpened() }

    public func schedulerStats() async -> [String: SchedulerStats] { [:] }

    /// The connection pool's event loop: the load generator's tasks run there too, so a request's
    /// send, its reply and its bookkeeping happen on one thread without hand-offs (on 2 cores the
    /// client's thread wake-ups took CPU from the server it measures).
    public var preferredExecutor: (any TaskExecutor)? { pool.executor }

    public func close() async { await pool.close() }

    /// Classifies a response: 2xx ok; an error `code`/`type` naming a deadline or overload decides
    /// (`quiver serve` answers 503 `deadline_exceeded`, 429 `overloaded`); else 429/503 overloaded,
    /// 504/408 deadline; anything else failed, with the server's message.
    public static func outcome(status: Int, body: Data) -> BenchOutcome {
        if (200..<300).contains(status) { return .ok }
        let error = (try? JSONSerialization.jsonObject(with: body)) .flatMap { ($0 as? [String: Any])?["error"] as? [String: Any] }
        let label = [error?["code"], error?["type"]].compactMap { $0 as? String }.joined(separator: " ").lowercased()
        if label.contains("deadline") { return .deadline }
        if label.contains("overload") { return .overloaded }
        if status == 429 || status == 503 { return .overloaded }
        if status == 504 || status == 408 { return .deadline }
        let message = error?["message"] as? String ?? String(decoding: body.prefix(200), as: UTF8.self)
        return .failed("HTTP \(status): \(message)")
    }
}
