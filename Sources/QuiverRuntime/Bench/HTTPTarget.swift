import Foundation
#if QUIVER_NO_URLSESSION
// The portable build (scripts/dist.sh) links Foundation statically; FoundationNetworking would pull
// in libcurl and its TLS stack, so `quiver bench --url` is left out of it.
public enum HTTPTarget {
    public init(url: String, model: String?, timeout: TimeInterval = 60) throws {
        throw QuiverError.invalidArgument("quiver bench --url is not in the portable dist build; run it from a toolchain build (swift build -c release)")
    }
}
extension HTTPTarget: BenchTarget {
    public func send(_ request: BenchRequest) async -> BenchOutcome { .failed("unavailable") }
    public func schedulerStats() async -> [String: SchedulerStats] { [:] }
    public func close() async {}
}
#else
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An OpenAI-style embeddings endpoint as a benchmark target: each request is
/// `POST {base}/v1/embeddings` with `{"input": "...", "model": "..."}`. Only the embed workload
/// has a standard HTTP form; the server's scheduler counters are not visible from here.
public final class HTTPTarget: BenchTarget {
    public let endpoint: URL
    public let model: String?
    private let session: URLSession

    /// - Parameters:
    ///   - url: the server (`http://host:port`, a path prefix allowed) or the full embeddings URL.
    ///   - model: the `model` field of each request; omitted when nil.
    ///   - timeout: seconds before a request counts as failed.
    public init(url: String, model: String?, timeout: TimeInterval = 60) throws {
        endpoint = try Self.endpoint(url)
        self.model = model
        let config = URLSessionConfiguration.ephemeral
        config.httpMaximumConnectionsPerHost = 1024
        config.timeoutIntervalForRequest = timeout
        config.urlCache = nil
        session = URLSession(configuration: config)
    }

    /// The embeddings URL for `--url`: `/v1/embeddings` appended unless the path already ends so.
    public static func endpoint(_ url: String) throws -> URL {
        guard let base = URL(string: url), let scheme = base.scheme?.lowercased(), scheme == "http" || scheme == "https", base.host != nil else {
            throw QuiverError.invalidArgument("--url \(url) is not an http(s) URL; give e.g. http://127.0.0.1:8080")
        }
        if base.path.hasSuffix("/v1/embeddings") { return base }
        var text = url
        while text.hasSuffix("/") { text.removeLast() }
        return URL(string: text + "/v1/embeddings")!
    }

    /// The HTTP request for one text.
    public func request(for text: String) -> URLRequest {
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        var body: [String: String] = ["input": text]
        if let model { body["model"] = model }
        request.httpBody = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return request
    }

    public func send(_ request: BenchRequest) async -> BenchOutcome {
        guard case let .embed(text) = request else { return .failed("only the embed workload can be sent over HTTP") }
        let urlRequest = self.request(for: text)
        return await withCheckedContinuation { continuation in
            session.dataTask(with: urlRequest) { data, response, error in
                if let error { return continuation.resume(returning: .failed(error.localizedDescription)) }
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                continuation.resume(returning: Self.outcome(status: status, body: data ?? Data()))
            }.resume()
        }
    }

    public func schedulerStats() async -> [String: SchedulerStats] { [:] }

    public func close() async { session.finishTasksAndInvalidate() }

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
#endif
