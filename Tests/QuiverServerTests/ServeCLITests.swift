import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `quiver serve` as a user runs it: it prints where it listens, answers over HTTP, and on
/// SIGTERM finishes the request in flight before it exits 0.
@Suite(.serialized) struct ServeCLITests {
    /// The `quiver` binary next to the test bundle (swift test builds every product).
    static var binary: URL? {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("quiver"),
            ServerFixture.root.appendingPathComponent(".build/debug/quiver"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Lines of a pipe, as they arrive.
    final class LineReader: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""

        init(_ pipe: Pipe) {
            pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let data = handle.availableData
                guard let self, !data.isEmpty else { handle.readabilityHandler = nil; return }
                self.lock.lock()
                self.text += String(decoding: data, as: UTF8.self)
                self.lock.unlock()
            }
        }

        var all: String { lock.lock(); defer { lock.unlock() }; return text }
    }

    static func request(_ url: URL, json: String? = nil) async throws -> (Int, Data) {
        var request = URLRequest(url: url)
        request.timeoutInterval = 300
        if let json {
            request.httpMethod = "POST"
            request.httpBody = Data(json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// Polls (no fixed sleeps) until `condition` holds, failing after `attempts` tries.
    static func waitFor(_ what: String, attempts: Int = 1200, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<attempts {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }

    @Test func servesAndDrainsOnSIGTERM() async throws {
        // A window of 10 minutes: the request below waits in the queue, in flight, until SIGTERM
        // makes the server drain (run what it queued at once) instead of waiting for the window.
        let server = try await ServeProcess(["--model", ServerFixture.modelPath, "--backend", "cpu",
                                             "--policy", "window", "--max-batch", "1000", "--max-delay", "600s"])
        defer { server.stop() }
        let (process, log, url) = (server.process, server.log, server.base!)
        #expect(try await Self.request(url.appendingPathComponent("health")).0 == 200)

        // An embed request that sits in the batching window, then SIGTERM while it is in flight.
        let texts = (0..<8).map { "\"text \($0)\"" }.joined(separator: ",")
        let inFlight = Task { try await Self.request(url.appendingPathComponent("v1/embeddings"), json: "{\"input\": [\(texts)]}") }
        try await Self.waitFor("the request to reach the queue") {
            let metrics = String(decoding: try await Self.request(url.appendingPathComponent("metrics")).1, as: UTF8.self)
            return metrics.contains("quiver_queue_depth{model=\"all-MiniLM-L6-v2\"} 8")
        }
        kill(process.processIdentifier, SIGTERM)
        // Without draining the answer would come after 600 s, past the request's 300 s timeout.
        let (status, body) = try await inFlight.value
        #expect(status == 200, "\(String(decoding: body, as: UTF8.self))")
        let parsed = try JSONSerialization.jsonObject(with: body) as? [String: Any]
        #expect((parsed?["data"] as? [Any])?.count == 8)
        try await Self.waitFor("the server to exit") { !process.isRunning }
        #expect(process.terminationStatus == 0, "\(log.all)")
        #expect(log.all.contains("stopped"))
    }

    @Test func refusesBadFlags() async throws {
        let exe = try #require(Self.binary, "build the quiver binary first (swift build)")
        let none = try await ExternalProcess.run(exe.path, ["serve"])
        #expect(none.status != 0 && none.stderr.contains("--model or --catalog"))
        let policy = try await ExternalProcess.run(exe.path, ["serve", "--model", ServerFixture.modelPath, "--policy", "fifo"])
        #expect(policy.status != 0 && policy.stderr.contains("slo, none or window"))
        for bad in ["0", "two"] {
            let slots = try await ExternalProcess.run(exe.path, ["serve", "--model", ServerFixture.modelPath, "--concurrent-batches", bad])
            #expect(slots.status != 0 && slots.stderr.contains("--concurrent-batches must be auto or a positive count"))
        }
    }
}
