import Foundation
import Hummingbird
import QuiverServer
import Testing

/// `/tokenize` and `/decode` against Hugging Face tokenizers (Tests/Fixtures/tokenizer/offsets.jsonl,
/// scripts/fixtures/tokenizer_offsets.py): every token's id, TEI's `text` (the input it came
/// from), `special`, and `start`/`stop` as UTF-8 byte offsets (TEI calls the Rust `encode`);
/// decodes of the same ids and of random id lists, with and without special tokens.
@Suite(.serialized) struct TEITokenRoutesTests {
    struct Token: Decodable, Equatable { var id: Int32; var text: String; var special: Bool; var start: Int?; var stop: Int? }

    /// The fixture's lines (JSONDecoder: JSONSerialization drops a U+FEFF after an escape).
    struct Line: Decodable {
        var text: String?
        var ids: [Int32]?
        var offsets: [[Int]?]?
        var decoded: String?
        var decodedAll: String?
        var variant: String?
        var decode: [UInt32]?
        var skip: Bool?
        enum CodingKeys: String, CodingKey {
            case text, ids, offsets, decoded, variant, decode, skip
            case decodedAll = "decoded_all"
        }
    }

    static let lines = Result {
        let url = ServerFixture.root.appendingPathComponent("Tests/Fixtures/tokenizer/offsets.jsonl")
        return try Data(contentsOf: url).split(separator: UInt8(ascii: "\n")).dropFirst().map { try JSONDecoder().decode(Line.self, from: Data($0)) }
    }

    /// TEI's answer for a fixture encoding: special tokens carry their own string and no offsets;
    /// the others the bytes of the input they cover.
    static func expected(_ line: Line, vocabulary: [Int32: String]) -> [Token] {
        let bytes = Array(line.text!.utf8)
        return zip(line.ids!, line.offsets!).map { id, offset in
            guard let offset else { return Token(id: id, text: vocabulary[id] ?? "?", special: true, start: nil, stop: nil) }
            return Token(id: id, text: String(decoding: bytes[offset[0]..<offset[1]], as: UTF8.self), special: false, start: offset[0], stop: offset[1])
        }
    }

    @Test func tokenizeEqualsHuggingFaceOnEveryFixtureString() async throws {
        let rows = try Self.lines.get().filter { $0.ids != nil && $0.variant == nil && !($0.text ?? "").isEmpty }
        #expect(rows.count >= 2000)
        try await LiveServer.run(try ServerFixture.server()) { client in
            var checked = 0, wrong: [String] = []
            for start in stride(from: 0, to: rows.count, by: 1000) {
                let chunk = Array(rows[start..<min(start + 1000, rows.count)])
                let got = try ServerFixture.decode([[Token]].self, try await ServerFixture.post(client, "/tokenize", ["inputs": chunk.map { $0.text! }]))
                #expect(got.count == chunk.count)
                for (line, tokens) in zip(chunk, got) {
                    let want = Self.expected(line, vocabulary: [101: "[CLS]", 102: "[SEP]"])
                    if tokens != want { wrong.append("\(line.text!.debugDescription):\n  want \(want)\n  got  \(tokens)") }
                    checked += 1
                }
            }
            #expect(checked == rows.count)
            #expect(wrong.isEmpty, Comment(rawValue: "\(wrong.count) differ; first:\n" + wrong.prefix(3).joined(separator: "\n")))

            // Without [CLS]/[SEP]: the same tokens minus the ends.
            let some = rows.filter { $0.text!.unicodeScalars.contains { $0.value > 0x7F } }.prefix(50)
            let bare = try ServerFixture.decode([[Token]].self, try await ServerFixture.post(
                client, "/tokenize", ["inputs": some.map { $0.text! }, "add_special_tokens": false]))
            for (line, tokens) in zip(some, bare) {
                #expect(tokens == Array(Self.expected(line, vocabulary: [:]).dropFirst().dropLast()), "\(line.text!.debugDescription)")
            }
        }
    }

    @Test func tokenizeErrorsAreTEIs() async throws {
        try await LiveServer.run(try ServerFixture.server { $0.maxInputs = 3 }) { client in
            try ServerFixture.expectTEIError(try await ServerFixture.post(client, "/tokenize", ["inputs": ""]), .badRequest, type: "Empty")
            try ServerFixture.expectTEIError(try await ServerFixture.post(client, "/tokenize", ["inputs": ["a", ""]]), .badRequest, type: "Empty")
            try ServerFixture.expectTEIError(try await ServerFixture.post(client, "/tokenize", ["inputs": [String]()]), .badRequest, type: "Empty")
            try ServerFixture.expectTEIError(try await ServerFixture.post(client, "/tokenize", ["inputs": ["a", "b", "c", "d"]]),
                                             .contentTooLarge, type: "Validation")
            try ServerFixture.expectTEIError(try await ServerFixture.post(client, "/tokenize", ["inputs": "a", "prompt_name": "query"]),
                                             .contentTooLarge, type: "Validation")
        }
    }

    @Test func decodeEqualsHuggingFace() async throws {
        let lines = try Self.lines.get()
        let random = lines.filter { $0.decode != nil && !($0.decode ?? []).isEmpty }
        let encoded = lines.filter { $0.ids != nil && $0.variant == nil }.prefix(800)
        #expect(random.count >= 400)
        try await LiveServer.run(try ServerFixture.server()) { client in
            for skip in [true, false] {
                let cases = random.filter { $0.skip == skip }
                let got = try ServerFixture.decode([String].self, try await ServerFixture.post(
                    client, "/decode", ["ids": cases.map { $0.decode! }, "skip_special_tokens": skip]))
                #expect(got == cases.map { $0.text! }, "skip_special_tokens \(skip)")
            }
            // The ids of the encodings decode to the fixture's decodes; skip_special_tokens defaults to true.
            let ids = encoded.map { $0.ids! }
            let plain = try ServerFixture.decode([String].self, try await ServerFixture.post(client, "/decode", ["ids": ids]))
            #expect(plain == encoded.map { $0.decoded! })
            let all = try ServerFixture.decode([String].self, try await ServerFixture.post(client, "/decode", ["ids": ids, "skip_special_tokens": false]))
            #expect(all == encoded.map { $0.decodedAll! })
            // A single list answers a list of one string.
            let one = try ServerFixture.decode([String].self, try await ServerFixture.post(client, "/decode", ["ids": [101, 7592, 1010, 2088, 999, 102]]))
            #expect(one == ["hello, world!"])
        }
    }

    @Test func decodeErrorsAreTEIs() async throws {
        try await LiveServer.run(try ServerFixture.server { $0.maxInputs = 2 }) { client in
            let cases: [(Any, HTTPResponse.Status, String)] = [
                ([Int](), .badRequest, "Empty"),
                ([[Int]](), .badRequest, "Empty"),
                ([[1012], []], .badRequest, "Empty"),
                ([[1], [2], [3]], .contentTooLarge, "Validation"),
                ([101, -1], .unprocessableContent, "Validation"),
                ("hello", .unprocessableContent, "Validation"),
            ]
            for (ids, status, type) in cases {
                try ServerFixture.expectTEIError(try await ServerFixture.post(client, "/decode", ["ids": ids]), status, type: type)
            }
            try ServerFixture.expectTEIError(try await ServerFixture.post(client, "/decode", ["skip_special_tokens": true]),
                                             .unprocessableContent, type: "Validation")
        }
    }
}
