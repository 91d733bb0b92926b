import Foundation
import Hummingbird
import QuiverServer
import Testing

/// TEI's routes answer errors as TEI does, `{"error": "...", "error_type": "..."}` with TEI's
/// status for each class (Empty 400, Validation 413, Tokenizer 422, Overloaded 429, Unhealthy 503,
/// Backend 424; axum's 400/422 for bodies that are not JSON / do not fit), while the same
/// conditions on the OpenAI routes and Quiver's own keep `{"error": {"message", "type", "code"}}`.
/// Overload (429) and shutdown (503) are in ErrorPathTests, which build their own engines.
@Suite(.serialized) struct TEIErrorShapeTests {
    @Test func teiRoutesUseTEIsShapeAndStatuses() async throws {
        try await LiveServer.run(try ServerFixture.server { $0.maxInputs = 4 }) { client in
            let long = String(repeating: "word ", count: 300)
            let cases: [(String, Any, HTTPResponse.Status, String)] = [
                ("/embed", ["inputs": [String]()], .badRequest, "Empty"),
                ("/embed", ["inputs": ""], .badRequest, "Empty"),
                ("/embed", ["inputs": ["ok", ""]], .badRequest, "Empty"),
                ("/embed", ["inputs": long], .contentTooLarge, "Validation"),
                ("/embed", ["inputs": ["a", "b", "c", "d", "e"]], .contentTooLarge, "Validation"),
                ("/embed", ["inputs": "a", "prompt_name": "query"], .contentTooLarge, "Validation"),
                ("/embed", ["normalize": true], .unprocessableContent, "Validation"),
                ("/embed", ["inputs": 42], .unprocessableContent, "Validation"),
                ("/embed", ["inputs": "a", "truncation_direction": "Left"], .unprocessableContent, "Validation"),
                ("/embed", ["inputs": [101, 99999, 102]], .unprocessableContent, "Tokenizer"),
                ("/tokenize", ["inputs": ["a", "b", "c", "d", "e"]], .contentTooLarge, "Validation"),
                ("/tokenize", ["inputs": [1, 2]], .unprocessableContent, "Validation"),
            ]
            for (uri, body, status, type) in cases {
                let response = try await ServerFixture.post(client, uri, body)
                try ServerFixture.expectTEIError(response, status, type: type)
            }
            let malformed = try await ServerFixture.post(client, "/embed", json: #"{"inputs": "#)
            try ServerFixture.expectTEIError(malformed, .badRequest, type: "Validation")
            // An unknown model is Quiver's extension: TEI's shape, Quiver's 404.
            let unknown = try await ServerFixture.post(client, "/embed", ["inputs": "a", "model": "nope"])
            #expect(try ServerFixture.expectTEIError(unknown, .notFound, type: "Validation").contains("nope"))
        }
    }

    @Test func otherRoutesKeepTheOpenAIShape() async throws {
        try await LiveServer.run(try ServerFixture.server { $0.maxInputs = 4 }) { client in
            let long = String(repeating: "word ", count: 300)
            try ServerFixture.expectError(try await ServerFixture.post(client, "/v1/embeddings", ["input": [String]()]),
                                          .badRequest, code: "empty_input")
            try ServerFixture.expectError(try await ServerFixture.post(client, "/v1/embeddings", ["input": long]),
                                          .contentTooLarge, code: "input_too_long")
            try ServerFixture.expectError(try await ServerFixture.post(client, "/v1/embeddings", ["input": [101, 99999, 102]]),
                                          .badRequest, code: "invalid_token_id")
            try ServerFixture.expectError(try await ServerFixture.post(client, "/search", ["query": ""]),
                                          .badRequest, code: "empty_input")
            try ServerFixture.expectError(try await ServerFixture.post(client, "/recommend", ["history": [String]()]),
                                          .badRequest, code: "empty_input")
        }
    }
}
