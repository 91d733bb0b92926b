import Foundation
import Testing
@testable import QuiverText

/// Repository root, from this file's path (Tests/QuiverTextTests/<file>).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let modelDir = repoRoot.appendingPathComponent("models/all-MiniLM-L6-v2")

struct SetupError: Error, CustomStringConvertible { let description: String }

func loadModelTokenizer() throws -> WordPieceTokenizer {
    guard FileManager.default.fileExists(atPath: modelDir.appendingPathComponent("tokenizer.json").path) else {
        throw SetupError(description: "model folder \(modelDir.path) is missing: run scripts/fetch-model.sh")
    }
    return try WordPieceTokenizer.load(directory: modelDir.path)
}

/// (text, ids) pairs of Tests/Fixtures/tokenizer/parity.jsonl, made by
/// scripts/fixtures/tokenizer_parity.py with Hugging Face tokenizers (truncation 256). Read with
/// JSONDecoder: Foundation's JSONSerialization drops a U+FEFF that follows an escape sequence.
func parityFixture() throws -> [(text: String, ids: [Int32])] {
    struct Row: Decodable { var text: String?; var ids: [Int32]? }
    let url = repoRoot.appendingPathComponent("Tests/Fixtures/tokenizer/parity.jsonl")
    let data = try Data(contentsOf: url)
    var rows: [(String, [Int32])] = []
    for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
        let row = try JSONDecoder().decode(Row.self, from: Data(line))
        guard let text = row.text, let ids = row.ids else { continue }  // the header line
        rows.append((text, ids))
    }
    return rows
}

func checkParity(_ tok: WordPieceTokenizer, _ rows: [(text: String, ids: [Int32])]) {
    var mismatches: [String] = []
    for row in rows {
        let got = tok.encode(row.text, maxLength: 256)
        if got != row.ids {
            mismatches.append("text \(row.text.debugDescription)\n  expected \(row.ids)\n  got      \(got)")
        }
    }
    let report = "\(mismatches.count)/\(rows.count) differ from Hugging Face tokenizers; first ones:\n"
        + mismatches.prefix(5).joined(separator: "\n")
    #expect(mismatches.isEmpty, Comment(rawValue: report))
}

@Test func parityWithHuggingFaceTokenizers() throws {
    let tok = try loadModelTokenizer()
    let rows = try parityFixture()
    #expect(rows.count >= 2500)
    checkParity(tok, rows)
}

@Test func vocabTxtLoadingMatchesTokenizerJSON() throws {
    let ref = try loadModelTokenizer()
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-vocab-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: tmp) }
    for f in ["vocab.txt", "tokenizer_config.json"] {
        try FileManager.default.copyItem(at: modelDir.appendingPathComponent(f), to: tmp.appendingPathComponent(f))
    }
    let tok = try WordPieceTokenizer.load(directory: tmp.path)
    #expect(tok.vocabularySize == ref.vocabularySize)
    #expect([tok.padId, tok.clsId, tok.sepId, tok.unkId] == [ref.padId, ref.clsId, ref.sepId, ref.unkId])
    checkParity(tok, try parityFixture())
}

@Test func specialIdsAndBasics() throws {
    let tok = try loadModelTokenizer()
    #expect(tok.vocabularySize == 30522)
    #expect([tok.padId, tok.unkId, tok.clsId, tok.sepId] == [0, 100, 101, 102])
    #expect(tok.encode("", maxLength: 256) == [101, 102])
    #expect(tok.encode("Hello, world!", maxLength: 256) == [101, 7592, 1010, 2088, 999, 102])
    #expect(tok.tokenize("hello [SEP] world") == ["hello", "[SEP]", "world"])
    #expect(tok.tokenize("café ΣΑΣ") == ["cafe", "σ", "##α", "##σ"])
}

@Test func truncationKeepsSpecialTokens() throws {
    let tok = try loadModelTokenizer()
    let text = "the quick brown fox jumps over the lazy dog again and again unbelievably"
    let full = tok.encode(text, maxLength: 1000)
    #expect(full.count > 12)
    for maxLength in 2...10 {
        let ids = tok.encode(text, maxLength: maxLength)
        #expect(ids.count == maxLength)
        #expect(ids.first == tok.clsId && ids.last == tok.sepId)
        #expect(Array(ids.dropLast()) == Array(full.prefix(maxLength - 1)), "maxLength \(maxLength)")
    }
    #expect(tok.encode(text, maxLength: 0) == [tok.clsId, tok.sepId])
    #expect(tok.encode("hi", maxLength: 10) == [101, 7632, 102])
}

@Test func overLongWordIsUnknown() throws {
    let tok = try loadModelTokenizer()
    #expect(tok.tokenize(String(repeating: "a", count: 101)) == ["[UNK]"])
    #expect(tok.encode("x " + String(repeating: "é", count: 101) + " y", maxLength: 256) == [101, 1060, 100, 1061, 102])
    #expect(!tok.tokenize(String(repeating: "a", count: 100)).contains("[UNK]"))
    #expect(tok.tokenize("\u{1F600}") == ["[UNK]"])
}

func expectLoadError(_ dir: String, contains parts: [String]) {
    do {
        _ = try WordPieceTokenizer.load(directory: dir)
        Issue.record("loading \(dir) should fail")
    } catch let e as TokenizerError {
        for p in parts { #expect(e.description.contains(p), "\(e.description) should mention \(p)") }
    } catch {
        Issue.record("unexpected error type: \(error)")
    }
}

@Test func clearErrors() throws {
    expectLoadError("/nonexistent/quiver-model", contains: ["/nonexistent/quiver-model", "does not exist"])
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-tok-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: tmp) }
    expectLoadError(tmp.path, contains: ["tokenizer.json", "vocab.txt"])
    let json = tmp.appendingPathComponent("tokenizer.json")
    try Data(#"{"model": {"type": "BPE", "vocab": {}, "merges": []}}"#.utf8).write(to: json)
    expectLoadError(tmp.path, contains: [json.path, "BPE", "only WordPiece"])
    try Data(#"{"model": {"type": "Unigram", "vocab": []}}"#.utf8).write(to: json)
    expectLoadError(tmp.path, contains: ["Unigram", "only WordPiece"])
    try Data(#"{"model": {"type": "WordPiece", "#.utf8).write(to: json)
    expectLoadError(tmp.path, contains: [json.path, "not valid JSON"])
}

/// Added tokens beyond BERT's specials: "normalized" ones match the normalized text, the others the
/// raw text; lstrip/rstrip swallow adjacent white space. Expected ids from Hugging Face tokenizers
/// 0.23.3 with these three entries appended to the model's added_tokens.
@Test func addedTokensNormalizedAndRaw() throws {
    let tok = try addedTokensTokenizer()
    #expect(tok.vocabularySize == 30525)
    #expect(tok.encode("say HELLO World now", maxLength: 256) == [101, 2360, 30522, 2085, 102])
    #expect(tok.encode("a café! xyz  b", maxLength: 256) == [101, 1037, 30523, 999, 30524, 1038, 102])
    #expect(tok.encode("xyzzy [MASK] Cafe\u{301}x", maxLength: 256) == [101, 30524, 1062, 2100, 103, 30523, 1060, 102])
}
