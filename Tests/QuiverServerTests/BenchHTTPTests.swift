import Foundation
import Testing
import QuiverHTTPBench
import QuiverRuntime
import QuiverServer

/// `HTTPTarget` (`quiver bench --url`'s SwiftNIO client): the endpoint and body it builds, how it
/// classifies responses, and real exchanges with a stub server and with a live `QuiverServer`.
struct BenchHTTPTests {
    @Test func httpEndpointAndBody() throws {
        #expect(try HTTPTarget.endpoint("http://127.0.0.1:8080").absoluteString == "http://127.0.0.1:8080/v1/embeddings")
        #expect(try HTTPTarget.endpoint("http://host:1/api/").absoluteString == "http://host:1/api/v1/embeddings")
        #expect(try HTTPTarget.endpoint("http://host/v1/embeddings").absoluteString == "http://host/v1/embeddings")
        for bad in ["ftp://host", "localhost:8080", "not a url", "https://host/v1/embeddings"] {
            #expect(throws: QuiverError.self, "\(bad)") { try HTTPTarget.endpoint(bad) }
        }
        #expect(throws: QuiverError.self) { try HTTPTarget(url: "http://127.0.0.1:9", model: nil, connections: 0) }
        let text = "héllo \"world\" \\ back\nslash\t\u{01}\u{1F} 🙂 </tag>"
        let body = HTTPTarget.body(for: text, model: "mini \"m\"")
        #expect(try JSONSerialization.jsonObject(with: Data(body)) as? [String: String] == ["input": text, "model": "mini \"m\""])
        #expect(String(decoding: HTTPTarget.body(for: "x", model: nil), as: UTF8.self) == #"{"input":"x"}"#)
        #expect(String(decoding: HTTPTarget.body(for: "x", model: "m"), as: UTF8.self) == #"{"input":"x","model":"m"}"#)
    }

    @Test func httpOutcomes() {
        func body(_ s: String) -> Data { Data(s.utf8) }
        #expect(HTTPTarget.outcome(status: 200, body: body("{}")) == .ok)
        #expect(HTTPTarget.outcome(status: 429, body: body("")) == .overloaded)
        #expect(HTTPTarget.outcome(status: 503, body: body("")) == .overloaded)
        #expect(HTTPTarget.outcome(status: 504, body: body("")) == .deadline)
        #expect(HTTPTarget.outcome(status: 400, body: body(#"{"error":{"message":"late","type":"deadline_exceeded"}}"#)) == .deadline)
        #expect(HTTPTarget.outcome(status: 503, body: body(#"{"error":{"message":"late","code":"deadline_exceeded"}}"#)) == .deadline,
                "quiver serve's deadline answer")
        #expect(HTTPTarget.outcome(status: 429, body: body(#"{"error":{"message":"full","code":"overloaded"}}"#)) == .overloaded)
        #expect(HTTPTarget.outcome(status: 500, body: body(#"{"error":{"message":"kaput","code":"internal"}}"#)) == .failed("HTTP 500: kaput"))
        #expect(HTTPTarget.outcome(status: 502, body: body("bad gateway")) == .failed("HTTP 502: bad gateway"))
    }

    /// A server that closes every connection after its answer: each request gets a fresh one.
    @Test func httpTargetAgainstAStubServer() async throws {
        let stub = try HTTPStub(responses: [
            (200, #"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5]}]}"#),
            (429, #"{"error":{"message":"busy","type":"overloaded","code":"overloaded"}}"#),
            (500, #"{"error":{"message":"kaput"}}"#),
        ])
        let target = try HTTPTarget(url: "http://127.0.0.1:\(stub.port)", model: "mini", timeout: 20)
        #expect(await target.send(.embed("hello world")) == .ok)
        #expect(await target.send(.embed("second")) == .overloaded)
        #expect(await target.send(.embed("third")) == .failed("HTTP 500: kaput"))
        #expect(await target.send(.search("x", k: 1)) != .ok, "only embed goes over HTTP")
        #expect(await target.connectionsOpened() == 3, "Connection: close is honoured")
        await target.close()
        let first = try #require(stub.requests.first)
        #expect(first.head.hasPrefix("POST /v1/embeddings HTTP/1.1"), "\(first.head)")
        #expect(first.head.lowercased().contains("host: 127.0.0.1:\(stub.port)"), "\(first.head)")
        #expect(try JSONSerialization.jsonObject(with: first.body) as? [String: String] == ["input": "hello world", "model": "mini"])
        #expect(stub.requests.count == 3)
    }

    /// Transport failures are `failed` outcomes, never a hang or a crash: nothing listening, and
    /// a listener that never answers (the request times out).
    @Test func transportFailuresAreFailedOutcomes() async throws {
        let gone = try HTTPStub(responses: [])   // closes its socket at once
        while !gone.isClosed { try await Task.sleep(for: .milliseconds(5)) }
        let refused = try HTTPTarget(url: "http://127.0.0.1:\(gone.port)", model: nil, timeout: 20)
        for outcome in await sendAll(refused, count: 3) {
            guard case .failed = outcome else { Issue.record("expected a failure, got \(outcome)"); continue }
        }
        await refused.close()

        let silent = try HTTPStub(responses: [], accepting: false)
        let waiting = try HTTPTarget(url: "http://127.0.0.1:\(silent.port)", model: nil, timeout: 0.2)
        let outcomes = await sendAll(waiting, count: 2)
        #expect(outcomes.allSatisfy { if case let .failed(message) = $0 { message.contains("no answer") } else { false } }, "\(outcomes)")
        await waiting.close()
        silent.stop()
    }

    /// Against a live server: keep-alive reuses one connection for sequential requests; many
    /// concurrent requests all complete through a small pool and through the default one; the
    /// server counted every one of them.
    @Test func manyConcurrentRequestsAgainstALiveServer() async throws {
        try await LiveServer.run(try ServerFixture.server()) { client in
            let sequential = try HTTPTarget(url: "http://127.0.0.1:\(client.port)", model: nil, timeout: 120)
            for i in 0..<10 { #expect(await sequential.send(.embed("query number \(i)")) == .ok) }
            #expect(await sequential.connectionsOpened() == 1, "sequential requests share one keep-alive connection")
            await sequential.close()

            let small = try HTTPTarget(url: "http://127.0.0.1:\(client.port)/", model: "all-MiniLM-L6-v2", timeout: 120, connections: 4)
            let throughSmall = await sendAll(small, count: 100)
            #expect(throughSmall.filter { $0 == .ok }.count == 100, "\(Set(throughSmall.map { "\($0)" }))")
            let opened = await small.connectionsOpened()
            #expect((1...4).contains(opened), "\(opened) connections")
            await small.close()

            let wide = try HTTPTarget(url: "http://127.0.0.1:\(client.port)", model: nil, timeout: 120)
            let throughWide = await sendAll(wide, count: 200)
            #expect(throughWide.filter { $0 == .ok }.count == 200, "\(Set(throughWide.map { "\($0)" }))")
            #expect(await wide.connectionsOpened() <= 200)
            await wide.close()

            let metrics = try await client.execute(uri: "/metrics", method: .get).text
            #expect(metrics.contains(#"quiver_http_requests_total{route="/v1/embeddings",status="200"} 310"#), "\(metrics.prefix(600))")
        }
    }

    /// Against a live server: 429 `overloaded` (queue full), 503 `deadline_exceeded` and a 404
    /// (unknown model) are told apart. The overloaded model's batcher holds its two admitted
    /// requests for a 10-minute window, so every further request finds the queue full — until the
    /// engine is drained, when the admitted two complete.
    @Test func outcomesOfALiveServerAreClassified() async throws {
        let held = ServedModel(name: "held", engine: try ServerFixture.engine(catalog: false, policy: .window(maxBatch: 1000, maxDelay: .seconds(600)),
                                                                             queueCapacity: 2))
        let strict = ServedModel(name: "strict", engine: try ServerFixture.engine(catalog: false, policy: .slo, latencyTarget: .microseconds(1)))
        try await LiveServer.run(try ServerFixture.server([held, strict])) { client in
            let url = "http://127.0.0.1:\(client.port)"
            let missing = try HTTPTarget(url: url, model: "no-such-model", timeout: 120)
            let answer = await missing.send(.embed("hello"))
            #expect({ if case let .failed(message) = answer { message.hasPrefix("HTTP 404: ") && message.contains("no-such-model") } else { false } }(), "\(answer)")
            await missing.close()

            let late = try HTTPTarget(url: url, model: "strict", timeout: 120)
            #expect(await sendAll(late, count: 4) == Array(repeating: .deadline, count: 4))
            await late.close()

            let target = try HTTPTarget(url: url, model: "held", timeout: 120)
            let engine = held.engine
            let outcomes = await withTaskGroup(of: BenchOutcome.self) { group in
                for i in 0..<12 { group.addTask { await target.send(.embed("held request \(i)")) } }
                var out: [BenchOutcome] = []
                for await outcome in group {
                    out.append(outcome)
                    // The ten refusals come back while the two admitted requests wait in their window.
                    if out.count == 10 { await engine.drain() }
                }
                return out
            }
            #expect(outcomes.prefix(10).allSatisfy { $0 == .overloaded }, "\(outcomes)")
            #expect(outcomes.suffix(2) == [.ok, .ok], "\(outcomes)")
            await target.close()
        }
    }

    private func sendAll(_ target: HTTPTarget, count: Int) async -> [BenchOutcome] {
        await withTaskGroup(of: BenchOutcome.self) { group in
            for i in 0..<count { group.addTask { await target.send(.embed("concurrent request \(i)")) } }
            var out: [BenchOutcome] = []
            for await outcome in group { out.append(outcome) }
            return out
        }
    }
}

/// A tiny HTTP/1.1 server on 127.0.0.1 for `HTTPTarget` tests: one connection at a time, each
/// answered with the next canned (status, JSON body) and closed; requests are recorded. The
/// listening socket closes after the last response (at once for none); with `accepting: false`
/// it listens (connections complete in the backlog) but never accepts or answers, until `stop`.
final class HTTPStub: @unchecked Sendable {
    struct Request { var head: String; var body: Data }

    let port: UInt16
    private let socketFD: Int32
    private let lock = NSLock()
    private var received: [Request] = []

    private var closed = false

    var requests: [Request] { lock.withLock { received } }
    /// Whether the listening socket is closed.
    var isClosed: Bool { lock.withLock { closed } }

    init(responses: [(Int, String)], accepting: Bool = true) throws {
        struct SocketError: Error { var step: String }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(step: "socket") }
        socketFD = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        var length = size
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, size) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw SocketError(step: "bind/listen") }
        port = UInt16(bigEndian: address.sin_port)
        guard accepting else { return }
        Thread { [self] in
            for (status, body) in responses {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }
                if let request = Self.read(client) { lock.withLock { received.append(request) } }
                let payload = Data(body.utf8)
                let head = "HTTP/1.1 \(status) Stub\r\nContent-Type: application/json\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n"
                let bytes = Data(head.utf8) + payload
                _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
                close(client)
            }
            stop()
        }.start()
    }

    /// Closes the listening socket.
    func stop() {
        lock.withLock {
            if !closed { close(socketFD) }
            closed = true
        }
    }

    /// Reads one request: the head up to the blank line, then Content-Length bytes of body.
    private static func read(_ fd: Int32) -> Request? {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        let separator = Data("\r\n\r\n".utf8)
        while true {
            if let end = data.range(of: separator) {
                let head = String(decoding: data[..<end.lowerBound], as: UTF8.self)
                let lengthLine = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                let length = lengthLine.flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if data.count - end.upperBound >= length {
                    return Request(head: head, body: Data(data[end.upperBound..<(end.upperBound + length)]))
                }
            }
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { return nil }
            data.append(contentsOf: buffer[0..<n])
        }
    }
}
