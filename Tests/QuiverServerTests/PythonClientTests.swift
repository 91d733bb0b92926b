import Foundation
import Hummingbird
import QuiverRuntime
import QuiverServer
import Testing

/// Real clients in another process over loopback, against `quiver serve` in a third: the official
/// `openai` Python client (skipped when `pip install openai` has not been run;
/// scripts/install-deps.sh installs it), and a bounded overload by many concurrent Python clients
/// (python3's standard library only).
@Suite(.serialized) struct PythonClientTests {
    static let scripts = ServerFixture.root.appendingPathComponent("scripts/serve")

    struct OpenAIOutput: Decodable {
        struct Usage: Decodable { var prompt_tokens: Int; var total_tokens: Int }
        struct NotFound: Decodable { var status: Int; var code: String? }
        var `default`: [[Float]]
        var float: [[Float]]
        var model: String
        var usage: Usage
        var status_404: NotFound?
    }

    @Test(.enabled(if: ExternalProcess.pythonHas("openai"), "needs python3 with the openai package (pip install openai)"))
    func openAIClientGetsSentenceTransformersVectors() async throws {
        let parity = try ServerFixture.parity()
        let picked = [0, 3, 13, 15, 18, 25]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-openai-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: picked.map { parity.sentences[$0] }).write(to: dir)
        defer { try? FileManager.default.removeItem(at: dir) }

        // `quiver serve` as a user starts it (in its own process: see `ServeProcess`).
        let server = try await ServeProcess(["--model", ServerFixture.modelPath, "--backend", "cpu", "--api-key", "client-key",
                                             "--policy", "window", "--max-batch", "32", "--max-delay", "2ms"])
        defer { server.stop() }
        let run = try await ExternalProcess.run(try #require(ExternalProcess.python), [
            Self.scripts.appendingPathComponent("openai_client_check.py").path,
            "--base-url", server.base.appendingPathComponent("v1").absoluteString,
            "--model", "all-MiniLM-L6-v2", "--texts", dir.path, "--api-key", "client-key"])
        #expect(run.status == 0, "\(run.stderr)")
        let output = try JSONDecoder().decode(OpenAIOutput.self, from: Data(run.stdout.utf8))
        #expect(output.model == "all-MiniLM-L6-v2" && output.default.count == picked.count)
        for (row, i) in picked.enumerated() {
            #expect(ServerFixture.maxDifference(output.default[row], parity.embedding(i)) <= 2e-4, "sentence \(i)")
            // The base64 the client asks for by default decodes to the float answer (two runs of
            // the model, which may differ in the last bits when batched differently).
            #expect(ServerFixture.maxDifference(output.default[row], output.float[row]) <= 1e-6)
        }
        #expect(output.usage.prompt_tokens == picked.map { parity.ids($0).count }.reduce(0, +))
        #expect(output.status_404?.status == 404 && output.status_404?.code == "model_not_found")
    }

    struct OverloadOutput: Decodable {
        var statuses: [String: Int]
        var transport_errors: Int
        var missing_retry_after: Int
        var health: Int
    }

    /// Far more concurrent requests than the queue holds, for two seconds: some are answered,
    /// the rest get 429 with Retry-After; no 5xx, no dropped connection, `/health` right after.
    @Test(.enabled(if: ExternalProcess.python != nil, "needs python3"))
    func overloadFromAnotherProcessGets429sAndNo5xx() async throws {
        let server = try await ServeProcess(["--model", ServerFixture.modelPath, "--backend", "cpu", "--policy", "window",
                                             "--max-batch", "16", "--max-delay", "5ms", "--queue-capacity", "8"])
        defer { server.stop() }
        let run = try await ExternalProcess.run(try #require(ExternalProcess.python), [
            Self.scripts.appendingPathComponent("overload.py").path, "--url", server.base.absoluteString,
            "--concurrency", "32", "--duration", "2", "--max-requests", "4000", "--inputs", "4"])
        #expect(run.status == 0, "\(run.stderr)")
        let output = try JSONDecoder().decode(OverloadOutput.self, from: Data(run.stdout.utf8))
        #expect((output.statuses["200"] ?? 0) > 0, "\(output.statuses)")
        #expect((output.statuses["429"] ?? 0) > 0, "\(output.statuses)")
        #expect(Set(output.statuses.keys).isSubset(of: ["200", "429"]), "\(output.statuses)")
        #expect(output.transport_errors == 0 && output.missing_retry_after == 0)
        #expect(output.health == 200)
        // And it still embeds correctly.
        let parity = try ServerFixture.parity()
        let body = try JSONSerialization.data(withJSONObject: ["inputs": parity.sentences[1]])
        let (status, data) = try await ServeCLITests.request(server.base.appendingPathComponent("embed"),
                                                             json: String(decoding: body, as: UTF8.self))
        #expect(status == 200)
        let after = try JSONDecoder().decode([[Float]].self, from: data)
        #expect(ServerFixture.maxDifference(after[0], parity.embedding(1)) <= 2e-4)
    }
}
