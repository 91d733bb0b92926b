import Foundation
import Hummingbird
import QuiverRuntime
import QuiverServer
import Testing

/// Bad input never gets a 500: each error path answers its 4xx with the JSON error shape, and
/// the server keeps serving afterwards. Also: limits, auth, overload → 429 + Retry-After.
@Suite(.serialized) struct ErrorPathTests {
    @Test func malformedRequestsGetTheirStatus() async throws {
        try await LiveServer.run(try ServerFixture.server { $0.maxInputs = 4 }) { client in
            let cases: [(String, String, HTTPResponse.Status, String)] = [
                ("/v1/embeddings", #"{"input": "hi""#, .badRequest, "invalid_json"),
                ("/v1/embeddings", "", .badRequest, "invalid_json"),
                ("/v1/embeddings", "[1, 2]", .badRequest, "invalid_type"),
                ("/v1/embeddings", #"{"model": "all-MiniLM-L6-v2"}"#, .badRequest, "missing_field"),
                ("/v1/embeddings", #"{"input": null}"#, .badRequest, "invalid_value"),
                ("/v1/embeddings", #"{"input": 42}"#, .badRequest, "invalid_value"),
                ("/v1/embeddings", #"{"input": ["a", 1]}"#, .badRequest, "invalid_value"),
                ("/v1/embeddings", #"{"input": [[1.5]]}"#, .badRequest, "invalid_value"),
                ("/v1/embeddings", #"{"input": "hi", "model": 3}"#, .badRequest, "invalid_type"),
                ("/v1/embeddings", #"{"input": "hi", "dimensions": "384"}"#, .badRequest, "invalid_type"),
                ("/v1/embeddings", #"{"input": []}"#, .badRequest, "empty_input"),
                ("/v1/embeddings", #"{"input": ""}"#, .badRequest, "empty_input"),
                ("/v1/embeddings", #"{"input": ["ok", ""]}"#, .badRequest, "empty_input"),
                ("/v1/embeddings", #"{"input": [[]]}"#, .badRequest, "empty_input"),
                ("/v1/embeddings", #"{"input": [101, 99999, 102]}"#, .badRequest, "invalid_token_id"),
                ("/v1/embeddings", #"{"input": [101, -1, 102]}"#, .badRequest, "invalid_token_id"),
                ("/v1/embeddings", #"{"input": ["a", "b", "c", "d", "e"]}"#, .contentTooLarge, "too_many_inputs"),
                ("/search", #"{"vector": [1, 2], "query": "x"}"#, .badRequest, "missing_field"),
                ("/nowhere", "{}", .notFound, "not_found"),
            ]
            for (uri, body, status, code) in cases {
                let response = try await ServerFixture.post(client, uri, json: body)
                let message = try ServerFixture.expectError(response, status, code: code)
                #expect(!message.contains("Optional"), "\(uri) \(body): \(message)")
            }
            // TEI's routes answer in TEI's shape with TEI's statuses (TEIErrorShapeTests has them all).
            let tei: [(String, String, HTTPResponse.Status, String)] = [
                ("/embed", #"{"inputs": ["a", "b", "c", "d", "e"]}"#, .contentTooLarge, "Validation"),
                ("/embed", #"{"input": "a"}"#, .unprocessableContent, "Validation"),
                ("/embed", #"{"inputs": "a", "normalize": "yes"}"#, .unprocessableContent, "Validation"),
                ("/embed", #"{"inputs": "a""#, .badRequest, "Validation"),
                ("/tokenize", #"{"inputs": []}"#, .badRequest, "Empty"),
            ]
            for (uri, body, status, type) in tei {
                let message = try ServerFixture.expectTEIError(try await ServerFixture.post(client, uri, json: body), status, type: type)
                #expect(!message.contains("Optional"), "\(uri) \(body): \(message)")
            }
            // The messages name the field at fault.
            let typed = try await ServerFixture.post(client, "/search", json: #"{"vector": [1, "x"]}"#)
            #expect(try ServerFixture.expectError(typed, .badRequest, code: "invalid_type").contains("`vector[1]`"))
            let long = try await ServerFixture.post(client, "/v1/embeddings", ["input": [Int](repeating: 1000, count: 300)])
            try ServerFixture.expectError(long, .contentTooLarge, code: "input_too_long")
            // An unknown route names itself and lists the real ones (slashes unescaped).
            let nowhere = try await client.execute(uri: "/v2/embeddings", method: .get)
            let routes = try ServerFixture.expectError(nowhere, .notFound, code: "not_found")
            #expect(routes.contains("No route GET /v2/embeddings") && routes.contains("POST /v1/embeddings"), "\(routes)")
            #expect(!nowhere.text.contains("\\/"))
            // Still serving.
            #expect(try await ServerFixture.post(client, "/v1/embeddings", ["input": "still here"]).status == .ok)
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
        }
    }

    /// A known path with the wrong method is 405 with `Allow` (in the route's error shape); an
    /// unknown path is 404; the metrics count both under their labels.
    @Test func wrongMethodIs405WithAllow() async throws {
        try await LiveServer.run(try ServerFixture.server()) { client in
            let cases: [(String, HTTPRequest.Method, String)] = [
                ("/v1/embeddings", .get, "POST"), ("/v1/models", .post, "GET"), ("/search", .get, "POST"),
                ("/recommend", .put, "POST"), ("/health", .post, "GET"), ("/info", .delete, "GET"), ("/metrics", .post, "GET"),
            ]
            for (uri, method, allow) in cases {
                let response = try await client.execute(uri: uri, method: method, body: method == .get || method == .delete ? nil : Data("{}".utf8))
                let message = try ServerFixture.expectError(response, .methodNotAllowed, code: "method_not_allowed")
                #expect(response.headers["allow"] == allow, "\(method) \(uri)")
                #expect(message.contains("\(method) \(uri)") && message.contains(allow), "\(message)")
            }
            for uri in ["/embed", "/embed_all", "/tokenize", "/decode", "/rerank", "/predict", "/embed_sparse"] {
                let response = try await client.execute(uri: uri, method: .get)
                try ServerFixture.expectTEIError(response, .methodNotAllowed, type: "Validation")
                #expect(response.headers["allow"] == "POST", "GET \(uri)")
            }
            for (uri, method) in [("/nowhere", HTTPRequest.Method.get), ("/embeddings/x", .post), ("/v1", .get)] {
                let response = try await client.execute(uri: uri, method: method, body: method == .post ? Data("{}".utf8) : nil)
                try ServerFixture.expectError(response, .notFound, code: "not_found")
                #expect(response.headers["allow"] == nil)
            }
            let metrics = try await client.execute(uri: "/metrics", method: .get).text
            #expect(metrics.contains(#"route="/v1/embeddings",status="405""#), "\(metrics)")
            #expect(metrics.contains(#"route="other",status="404""#))
        }
    }

    @Test func bodyLimit() async throws {
        try await LiveServer.run(try ServerFixture.server { $0.maxBodyBytes = 2048 }) { client in
            let big = String(repeating: "word ", count: 1000)
            let response = try await ServerFixture.post(client, "/v1/embeddings", ["input": big])
            #expect(try ServerFixture.expectError(response, .contentTooLarge, code: "body_too_large").contains("2048"))
            let tei = try await ServerFixture.post(client, "/embed", ["inputs": big])
            #expect(try ServerFixture.expectTEIError(tei, .contentTooLarge, type: "Validation").contains("2048"))
            #expect(try await ServerFixture.post(client, "/v1/embeddings", ["input": "small"]).status == .ok)
        }
    }

    @Test func apiKeyGuardsEveryRouteButHealth() async throws {
        try await LiveServer.run(try ServerFixture.server { $0.apiKey = "s3cret" }) { client in
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            for (uri, method) in [("/info", HTTPRequest.Method.get), ("/metrics", .get), ("/v1/models", .get)] {
                let response = try await client.execute(uri: uri, method: method)
                try ServerFixture.expectError(response, .unauthorized, code: "invalid_api_key")
                #expect(response.headers["www-authenticate"] == "Bearer")
            }
            let none = try await ServerFixture.post(client, "/v1/embeddings", ["input": "hi"])
            try ServerFixture.expectError(none, .unauthorized, code: "invalid_api_key")
            let wrong = try await ServerFixture.post(client, "/embed", ["inputs": "hi"], headers: ["Authorization": "Bearer s3cre"])
            try ServerFixture.expectTEIError(wrong, .unauthorized, type: "Validation")
            #expect(wrong.headers["www-authenticate"] == "Bearer")
            let right = try await ServerFixture.post(client, "/embed", ["inputs": "hi"], headers: ["Authorization": "Bearer s3cret"])
            #expect(right.status == .ok)
        }
        // Without a key nothing is asked.
        try await LiveServer.run(try ServerFixture.server()) { client in
            let info = try await client.execute(uri: "/info", method: .get)
            #expect(info.status == .ok)
        }
    }

    /// A queue of one: a request with many inputs cannot all be admitted, so it gets 429 with
    /// Retry-After; the engine still answers a request that fits.
    @Test func overloadIs429WithRetryAfter() async throws {
        let engine = try ServerFixture.engine(catalog: false, policy: .window(maxBatch: 64, maxDelay: .milliseconds(200)), queueCapacity: 1)
        try await LiveServer.run(try ServerFixture.server([ServedModel(engine: engine)])) { client in
            let texts = (0..<16).map { "sentence number \($0)" }
            let response = try await ServerFixture.post(client, "/v1/embeddings", ["input": texts])
            try ServerFixture.expectError(response, .tooManyRequests, code: "overloaded")
            #expect(response.headers["retry-after"] == "1")
            // TEI's route: TEI's Overloaded (429), also with Retry-After.
            let tei = try await ServerFixture.post(client, "/embed", ["inputs": texts])
            try ServerFixture.expectTEIError(tei, .tooManyRequests, type: "Overloaded")
            #expect(tei.headers["retry-after"] == "1")
            #expect(try await ServerFixture.post(client, "/embed", ["inputs": "one fits"]).status == .ok)
            let stats = await engine.stats()["text"]
            #expect((stats?.rejectedOverload ?? 0) >= 1)
        }
    }

    @Test func embedAfterShutdownIs503() async throws {
        let engine = try ServerFixture.engine(catalog: false)
        try await LiveServer.run(try ServerFixture.server([ServedModel(engine: engine)])) { client in
            await engine.shutdown()
            let response = try await ServerFixture.post(client, "/v1/embeddings", ["input": "late"])
            try ServerFixture.expectError(response, .serviceUnavailable, code: "shutting_down")
            let tei = try await ServerFixture.post(client, "/embed", ["inputs": "late"])
            try ServerFixture.expectTEIError(tei, .serviceUnavailable, type: "Unhealthy")
        }
    }
}
