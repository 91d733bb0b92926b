import Foundation
import Testing
@testable import QuiverText

/// Rows of Tests/Fixtures/tokenizer/offsets.jsonl, made by scripts/fixtures/tokenizer_offsets.py
/// with Hugging Face tokenizers: encodings with UTF-8 byte offsets and their decodes, and decodes
/// of random id lists.
struct OffsetsFixture {
    struct Encoded {
        var text: String
        var ids: [Int32]
        var offsets: [Range<Int>?]
        var decoded: String
        var decodedAll: String
        /// "added": the tokenizer with three extra added tokens (`addedTokensTokenizer`).
        var variant: String?
    }

    struct Decoded {
        var ids: [Int32]
        var skip: Bool
        var text: String
    }

    var encoded: [Encoded] = []
    var decoded: [Decoded] = []

    static let shared = Result { try OffsetsFixture() }

    /// One line: an encoding (text …) or a decode case (decode …). Read with JSONDecoder:
    /// Foundation's JSONSerialization drops a U+FEFF that follows an escape sequence.
    private struct Line: Decodable {
        var text: String?
        var ids: [Int32]?
        var offsets: [[Int]?]?
        var decoded: String?
        var decodedAll: String?
        var variant: String?
        var decode: [Int32]?
        var skip: Bool?

        enum CodingKeys: String, CodingKey {
            case text, ids, offsets, decoded, variant, decode, skip
            case decodedAll = "decoded_all"
        }
    }

    init() throws {
        let data = try Data(contentsOf: repoRoot.appendingPathComponent("Tests/Fixtures/tokenizer/offsets.jsonl"))
        for (n, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where n > 0 {  // line 0: header
            let row = try JSONDecoder().decode(Line.self, from: Data(line))
            if let ids = row.decode {
                decoded.append(Decoded(ids: ids, skip: row.skip ?? true, text: row.text ?? ""))
                continue
            }
            encoded.append(Encoded(text: row.text ?? "", ids: row.ids ?? [], offsets: (row.offsets ?? []).map { $0.map { $0[0]..<$0[1] } },
                                   decoded: row.decoded ?? "", decodedAll: row.decodedAll ?? "", variant: row.variant))
        }
    }
}

/// The model's tokenizer.json plus three added tokens (normalized; lstrip; rstrip), ids 30522-30524.
func addedTokensTokenizer() throws -> WordPieceTokenizer {
    _ = try loadModelTokenizer()  // a clear error when the model folder is missing
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-added-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: tmp) }
    var root = try JSONSerialization.jsonObject(
        with: Data(contentsOf: modelDir.appendingPathComponent("tokenizer.json"))) as! [String: Any]
    var added = root["added_tokens"] as! [[String: Any]]
    func entry(_ id: Int, _ content: String, lstrip: Bool, rstrip: Bool, normalized: Bool) -> [String: Any] {
        ["id": id, "content": content, "single_word": false, "lstrip": lstrip, "rstrip": rstrip,
         "normalized": normalized, "special": false]
    }
    added += [entry(30522, "Hello World", lstrip: false, rstrip: false, normalized: true),
              entry(30523, "Café", lstrip: true, rstrip: false, normalized: true),
              entry(30524, "xyz", lstrip: false, rstrip: true, normalized: false)]
    root["added_tokens"] = added
    try JSONSerialization.data(withJSONObject: root).write(to: tmp.appendingPathComponent("tokenizer.json"))
    return try WordPieceTokenizer.load(directory: tmp.path)
}

/// Offsets equal Hugging Face's on every fixture string (accents NFD strips, CJK, punctuation,
/// emoji, zero-width and control characters, over-long words, "[SEP]" in the text, added tokens
/// with lstrip/rstrip), and so do both decodes of the same ids.
@Test func offsetsAndDecodesMatchHuggingFace() throws {
    let fixture = try OffsetsFixture.shared.get()
    let plain = try loadModelTokenizer(), added = try addedTokensTokenizer()
    #expect(fixture.encoded.count >= 2000)
    #expect(fixture.encoded.filter { $0.variant == "added" }.count == 4)
    var mismatches: [String] = []
    for row in fixture.encoded {
        let tok = row.variant == "added" ? added : plain
        let got = tok.encodeWithOffsets(row.text)
        if got.ids != row.ids || got.offsets != row.offsets {
            mismatches.append("text \(row.text.debugDescription)\n  expected \(row.ids) \(row.offsets)\n  got      \(got.ids) \(got.offsets)")
        }
        let decoded = tok.decode(row.ids, skipSpecialTokens: true), decodedAll = tok.decode(row.ids, skipSpecialTokens: false)
        if decoded != row.decoded || decodedAll != row.decodedAll {
            mismatches.append("decode of \(row.ids)\n  expected \(row.decoded.debugDescription) / \(row.decodedAll.debugDescription)\n"
                + "  got      \(decoded.debugDescription) / \(decodedAll.debugDescription)")
        }
    }
    #expect(mismatches.isEmpty, Comment(rawValue: "\(mismatches.count) differ from Hugging Face; first ones:\n"
        + mismatches.prefix(5).joined(separator: "\n")))
}

/// Random id lists (word pieces, "##" continuations at the start and inside, punctuation that
/// cleanup glues, special and out-of-vocabulary ids) decode like Hugging Face.
@Test func decodeOfRandomIdsMatchesHuggingFace() throws {
    let fixture = try OffsetsFixture.shared.get()
    let tok = try loadModelTokenizer()
    #expect(fixture.decoded.count >= 400)
    let wrong = fixture.decoded.filter { tok.decode($0.ids, skipSpecialTokens: $0.skip) != $0.text }
    #expect(wrong.isEmpty, Comment(rawValue: wrong.prefix(5).map {
        "\($0.ids) skip \($0.skip): expected \($0.text.debugDescription), got \(tok.decode($0.ids, skipSpecialTokens: $0.skip).debugDescription)"
    }.joined(separator: "\n")))
    #expect(tok.decode([101, 7592, 1010, 2088, 999, 102], skipSpecialTokens: true) == "hello, world!")
    #expect(tok.decode([19204, 17629], skipSpecialTokens: true) == "tokenizer")
}

/// The offsets path is a second way through the pipeline: it must give the ids path's ids on
/// every parity string (untruncated), and leave out [CLS]/[SEP] when asked.
@Test func offsetsPathGivesTheIdsPathsIds() throws {
    let tok = try loadModelTokenizer()
    var differ: [String] = []
    for row in try parityFixture() {
        let full = tok.encode(row.text, maxLength: .max)
        let withOffsets = tok.encodeWithOffsets(row.text)
        if withOffsets.ids != full { differ.append(row.text.debugDescription) }
        let bare = tok.encodeWithOffsets(row.text, addSpecialTokens: false)
        if bare.ids != Array(full.dropFirst().dropLast()) || bare.offsets != Array(withOffsets.offsets.dropFirst().dropLast()) {
            differ.append("add_special_tokens false: " + row.text.debugDescription)
        }
    }
    #expect(differ.isEmpty, Comment(rawValue: differ.prefix(5).joined(separator: "\n")))
}

/// Offsets point at the input's own bytes: the accented word for its stripped token, the whole
/// emoji for [UNK], nothing for the special tokens around the text.
@Test func offsetsSliceTheInput() throws {
    let tok = try loadModelTokenizer()
    let text = "Café 👍🏽 tokenizer"
    let encoding = tok.encodeWithOffsets(text)
    let bytes = Array(text.utf8)
    let pieces = encoding.offsets.map { $0.map { String(decoding: bytes[$0], as: UTF8.self) } }
    #expect(pieces == [nil, "Café", "👍🏽", "token", "izer", nil])
    #expect(encoding.ids.map { tok.token(for: $0) ?? "?" } == ["[CLS]", "cafe", "[UNK]", "token", "##izer", "[SEP]"])
    #expect(tok.isSpecial(101) && tok.isSpecial(0) && !tok.isSpecial(7592))
    #expect(tok.token(for: -1) == nil && tok.token(for: 30522) == nil)
}
