import Foundation
import Hummingbird
import QuiverServer
import Testing

/// `/rerank`, `/predict` and `/embed_sparse` on an embedding model answer what TEI answers a
/// model without a re-ranker, classifier or SPLADE head: 424 Backend with TEI's message, after
/// TEI's checks that come first (empty → 400 Empty, too many inputs → 413 Validation), and 422 for
/// bodies that are not TEI's request types.
@Suite(.serialized) struct TEIHeadRoutesTests {
    static let failedDependency = HTTPResponse.Status(code: 424)

    @Test func unsupportedHeadsAnswerLikeTEI() async throws {
        try await LiveServer.run(try ServerFixture.server { $0.maxInputs = 2 }) { client in
            let backend: [(String, Any, String)] = [
                ("/rerank", ["query": "What is Deep Learning?", "texts": ["Deep Learning is ...", "cheese"]], "Backend error: model is not a re-ranker model"),
                ("/rerank", ["query": "q", "texts": ["a", "b", "c"], "return_text": true, "raw_scores": true], "Backend error: model is not a re-ranker model"),
                ("/predict", ["inputs": "I like you."], "Backend error: Model is not a classifier model"),
                ("/predict", ["inputs": ["premise", "hypothesis"]], "Backend error: Model is not a classifier model"),
                ("/predict", ["inputs": [["one"], ["a", "pair"]], "raw_scores": true], "Backend error: Model is not a classifier model"),
                ("/embed_sparse", ["inputs": "What is Deep Learning?"], "Backend error: Model is not an embedding model with SPLADE pooling"),
                ("/embed_sparse", ["inputs": ["a", "b"], "truncate": true], "Backend error: Model is not an embedding model with SPLADE pooling"),
            ]
            for (uri, body, message) in backend {
                let response = try await ServerFixture.post(client, uri, body)
                #expect(try ServerFixture.expectTEIError(response, Self.failedDependency, type: "Backend") == message, "\(uri)")
            }
            let checkedFirst: [(String, Any, HTTPResponse.Status, String)] = [
                ("/rerank", ["query": "q", "texts": [String]()], .badRequest, "Empty"),
                ("/predict", ["inputs": [[String]]()], .badRequest, "Empty"),
                ("/predict", ["inputs": [["a"], ["b"], ["c"]]], .contentTooLarge, "Validation"),
                ("/embed_sparse", ["inputs": [String]()], .badRequest, "Empty"),
                ("/embed_sparse", ["inputs": ["a", "b", "c"]], .contentTooLarge, "Validation"),
                ("/rerank", ["texts": ["a"]], .unprocessableContent, "Validation"),
                ("/predict", ["inputs": ["one", "two", "three"]], .unprocessableContent, "Validation"),
                ("/predict", ["inputs": 42], .unprocessableContent, "Validation"),
                ("/embed_sparse", ["input": "a"], .unprocessableContent, "Validation"),
                ("/rerank", ["query": "q", "texts": ["a"], "model": "nope"], .notFound, "Validation"),
            ]
            for (uri, body, status, type) in checkedFirst {
                try ServerFixture.expectTEIError(try await ServerFixture.post(client, uri, body), status, type: type)
            }
        }
    }
}
