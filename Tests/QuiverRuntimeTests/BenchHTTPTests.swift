import Foundation
import Testing
import QuiverRuntime

/// `HTTPTarget`: the endpoint and request it builds, how it reads responses, and a real exchange
/// with a local stub server.
struct BenchHTTPTests {
    @Test func httpEndpointAndRequest() throws {
        #expect(try HTTPTarget.endpoint("http://127.0.0.1:8080").absoluteString == "http://127.0.0.1:8080/v1/embeddings")
        #expect(try HTTPTarget.endpoint("http://host:1/api/").absoluteString == "http://host:1/api/v1/embeddings")
        #expect(try HTTPTarget.endpoint("https://host/v1/embeddings").absoluteString == "https://host/v1/embeddings")
        for bad in ["ftp://host", "localhost:8080", "not a url"] {
            #expect(throws: QuiverError.self, "\(bad)") { try HTTPTarget.endpoint(bad) }
        }
        let request = try HTTPTarget(url: "http://127.0.0.1:9", model: "mini").request(for: "héllo \"world\"")
        #expect(request.httpMethod == "POST" && request.value(forHTTPHeaderField: "Content-Type") == "application/json")
        let body = try JSONSerialization.jsonObject(with: try #require(request.httpBody)) as? [String: String]
        #expect(body == ["input": "héllo \"world\"", "model": "mini"])
        let anonymous = try HTTPTarget(url: "http://127.0.0.1:9", model: nil).request(for: "x")
        #expect(try JSONSerialization.jsonObject(with: try #require(anonymous.httpBody)) as? [String: String] == ["input": "x"])
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
        await target.close()
        let first = try #require(stub.requests.first)
        #expect(first.head.hasPrefix("POST /v1/embeddings HTTP/1.1"), "\(first.head)")
        #expect(try JSONSerialization.jsonObject(with: first.body) as? [String: String] == ["input": "hello world", "model": "mini"])
        #expect(stub.requests.count == 3)
    }

}

/// A tiny HTTP/1.1 server on 127.0.0.1 for `HTTPTarget` tests: one connection at a time, each
/// answered with the next canned (status, JSON body) and closed; requests are recorded.
final class HTTPStub: @unchecked Sendable {
    struct Request { var head: String; var body: Data }

    let port: UInt16
    private let socketFD: Int32
    private let lock = NSLock()
    private var received: [Request] = []

    var requests: [Request] { lock.withLock { received } }

    init(responses: [(Int, String)]) throws {
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
            close(fd)
        }.start()
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
