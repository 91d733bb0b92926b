import Foundation
import Hummingbird
import QuiverRuntime
import QuiverServer
import Testing

/// The `slo` policy over HTTP: a request that cannot meet its deadline is refused at once with
/// 503 `deadline_exceeded` and `Retry-After` (TEI's routes: 503 Overloaded), while admitted work
/// on the same server completes with the right vectors.
///
/// Deterministic on a loaded machine: the strict model's latency target (1 µs) is below any run
/// time its batcher can predict (the warm-up model has a fixed cost of at least 10 µs, and a batcher
/// that never runs never lowers it), so every request to it is refused at admission. The relaxed
/// model's target is 10 minutes and its batch budget one token, so each request fills a batch and
/// is dispatched at once (`slo` would otherwise hold a batch until the last safe moment); it could
/// only be refused if 8 one-sentence batches were predicted to take 10 minutes. No timing is
/// assumed beyond that (a first version with a 3 s target shed a request when every test suite
/// ran at once on 2 cores).
@Suite(.serialized) struct SLOSheddingTests {
    @Test func unreachableDeadlinesAre503WhileAdmittedWorkCompletes() async throws {
        let parity = try ServerFixture.parity()
        let strict = ServedModel(name: "strict", engine: try ServerFixture.engine(catalog: false, policy: .slo, latencyTarget: .microseconds(1)))
        let relaxed = ServedModel(name: "relaxed", engine: try ServerFixture.engine(catalog: false, policy: .slo, latencyTarget: .seconds(600),
                                                                                   maxBatchTokens: 1))
        try await LiveServer.run(try ServerFixture.server([relaxed, strict])) { client in
            let picked = Array(0..<8)
            // Both models at once: the refusals must not disturb the admitted requests.
            let responses = try await withThrowingTaskGroup(of: (Int, String, LiveServer.Response).self) { group in
                for i in picked {
                    group.addTask { (i, "relaxed", try await ServerFixture.post(client, "/v1/embeddings", ["input": parity.sentences[i], "model": "relaxed"])) }
                    group.addTask { (i, "strict", try await ServerFixture.post(client, "/v1/embeddings", ["input": parity.sentences[i], "model": "strict"])) }
                    group.addTask { (i, "strict-tei", try await ServerFixture.post(client, "/embed", ["inputs": parity.sentences[i], "model": "strict"])) }
                }
                var out: [(Int, String, LiveServer.Response)] = []
                for try await r in group { out.append(r) }
                return out
            }
            #expect(responses.count == 3 * picked.count)
            struct Body: Decodable { struct Item: Decodable { var embedding: [Float] }; var data: [Item] }
            for (i, model, response) in responses {
                switch model {
                case "relaxed":
                    #expect(response.status == .ok, "\(response.text)")
                    let vector = try ServerFixture.decode(Body.self, response).data[0].embedding
                    #expect(ServerFixture.maxDifference(vector, parity.embedding(i)) <= 2e-4, "sentence \(i)")
                case "strict":
                    try ServerFixture.expectError(response, .serviceUnavailable, code: "deadline_exceeded")
                    #expect(response.headers["retry-after"] == "1")
                default:
                    try ServerFixture.expectTEIError(response, .serviceUnavailable, type: "Overloaded")
                    #expect(response.headers["retry-after"] == "1")
                }
            }
            // The scheduler refused every strict request before running anything, and ran every relaxed one.
            let strictStats = try #require(await strict.engine.stats()["text"])
            #expect(strictStats.rejectedDeadline == 2 * picked.count && strictStats.admitted == 0 && strictStats.batches == 0, "\(strictStats)")
            let relaxedStats = try #require(await relaxed.engine.stats()["text"])
            #expect(relaxedStats.completed == picked.count && relaxedStats.rejectedDeadline == 0, "\(relaxedStats)")
            // /metrics says why, and the server still answers.
            let metrics = try await client.execute(uri: "/metrics", method: .get).text
            #expect(metrics.contains(#"quiver_scheduler_rejections_total{model="strict",workload="text",reason="deadline"} 16"#), "\(metrics)")
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
        }
    }
}
