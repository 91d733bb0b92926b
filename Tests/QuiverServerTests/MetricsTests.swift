import Foundation
import Hummingbird
import QuiverRuntime
import QuiverServer
import Testing

/// `GET /metrics`: Prometheus text whose counters equal what was sent: requests by route and
/// status, inputs and tokens (the responses' usage), the engine's scheduler counters.
@Suite(.serialized) struct MetricsTests {
    /// Samples `name{labels} value` of the exposition, keyed by the text before the value.
    static func samples(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space])] = value
        }
        return out
    }

    @Test func countersMatchTheRequestsSent() async throws {
        let engine = try ServerFixture.engine(catalog: false)
        try await LiveServer.run(try ServerFixture.server([ServedModel(name: "m", engine: engine)])) { client in
            var tokens = 0
            for text in ["one", "two words", "three little words"] {
                let response = try await ServerFixture.post(client, "/v1/embeddings", ["input": [text, text + "!"]])
                let usage = (try ServerFixture.json(response) as? [String: Any])?["usage"] as? [String: Int]
                tokens += usage?["prompt_tokens"] ?? 0
            }
            _ = try await ServerFixture.post(client, "/v1/embeddings", ["input": ""])
            _ = try await ServerFixture.post(client, "/embed", ["inputs": "x"])
            tokens += 3
            _ = try await client.execute(uri: "/nowhere", method: .get)

            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = response.text
            let s = Self.samples(text)
            #expect(s[#"quiver_http_requests_total{route="/v1/embeddings",status="200"}"#] == 3)
            #expect(s[#"quiver_http_requests_total{route="/v1/embeddings",status="400"}"#] == 1)
            #expect(s[#"quiver_http_requests_total{route="/embed",status="200"}"#] == 1)
            #expect(s[#"quiver_http_requests_total{route="other",status="404"}"#] == 1)
            #expect(s[#"quiver_http_request_duration_seconds_count{route="/v1/embeddings"}"#] == 4)
            #expect(s[#"quiver_http_request_duration_seconds_bucket{route="/v1/embeddings",le="+Inf"}"#] == 4)
            #expect(s[#"quiver_embedded_inputs_total{model="m"}"#] == 7)
            #expect(s[#"quiver_tokens_total{model="m"}"#] == Double(tokens))
            #expect(s[#"quiver_queue_depth{model="m"}"#] == 0)
            #expect(s["quiver_http_requests_in_flight"] == 1)  // the /metrics request itself
            #expect(s[#"quiver_scheduler_completed_total{model="m",workload="text"}"#] == 7)
            #expect(s[#"quiver_scheduler_rejections_total{model="m",workload="text",reason="overload"}"#] == 0)
            let batches = try #require(s[#"quiver_scheduler_batches_total{model="m",workload="text"}"#])
            #expect(s[#"quiver_scheduler_batch_rows_count{model="m",workload="text"}"#] == batches)
            #expect(s[#"quiver_scheduler_batch_rows_sum{model="m",workload="text"}"#] == 7)
            #expect(text.contains("# TYPE quiver_http_request_duration_seconds histogram"))
        }
    }
}
