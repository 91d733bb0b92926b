// Ids → text, as Hugging Face tokenizers' `Tokenizer::decode` with the WordPiece decoder.
// Upstream: tokenizers/src/tokenizer/mod.rs (`decode`: ids → tokens, unknown ids and, when asked,
// special tokens left out) and tokenizers/src/decoders/wordpiece.rs (`decode_chain`, `cleanup`).

/// The WordPiece decoder of a tokenizer.json (`{"type": "WordPiece", "prefix", "cleanup"}`).
///
/// Token i > 0 loses the continuation `prefix` when it starts with it, else gets a space in front;
/// the first token is kept as it is (a leading "##x" stays "##x"). With `cleanup`, each token (with
/// its leading space) then has the spaces before . ? ! , and English contractions removed, one
/// token at a time (so " ' " inside a single token only).
struct WordPieceDecoder: Sendable, Equatable {
    var prefix = "##"
    var cleanup = true

    /// The decoded text of `tokens`. O(total length). Works on UTF-8 bytes, as the Rust original
    /// does: a prefix or pattern followed by a combining mark still matches (Swift's `String`
    /// would compare whole grapheme clusters).
    func decode(_ tokens: [String]) -> String {
        let prefix = Array(self.prefix.utf8)
        var out: [UInt8] = []
        var piece: [UInt8] = []
        for (i, token) in tokens.enumerated() {
            piece.removeAll(keepingCapacity: true)
            let bytes = token.utf8
            if i != 0 {
                if !prefix.isEmpty, bytes.starts(with: prefix) {
                    piece.append(contentsOf: bytes.dropFirst(prefix.count))
                } else {
                    piece.append(0x20)
                    piece.append(contentsOf: bytes)
                }
            } else {
                piece.append(contentsOf: bytes)
            }
            if cleanup { Self.cleanUp(&piece) }
            out.append(contentsOf: piece)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// tokenizers' `cleanup`: these replacements, in this order, each of every occurrence.
    static let replacements: [([UInt8], [UInt8])] = [
        (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
        (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ].map { (Array($0.0.utf8), Array($0.1.utf8)) }

    static func cleanUp(_ text: inout [UInt8]) {
        guard text.contains(0x20) else { return }
        for (from, to) in replacements { replaceAll(&text, from, to) }
    }

    /// Replaces every non-overlapping occurrence of `from` (scanning left to right) by `to`.
    static func replaceAll(_ text: inout [UInt8], _ from: [UInt8], _ to: [UInt8]) {
        guard text.count >= from.count else { return }
        var out: [UInt8] = []
        var i = 0, changed = false
        while i < text.count {
            if text[i] == from[0], i + from.count <= text.count, text[i..<(i + from.count)].elementsEqual(from) {
                out.append(contentsOf: to)
                i += from.count
                changed = true
            } else {
                out.append(text[i])
                i += 1
            }
        }
        if changed { text = out }
    }
}

extension WordPieceTokenizer {
    /// The text of `ids`, like Hugging Face `Tokenizer.decode(ids, skip_special_tokens:)`: ids
    /// outside the vocabulary are left out, special tokens too when `skipSpecialTokens`, and the
    /// rest joined by the WordPiece decoder ("##" pieces glued to the previous one, spaces before
    /// punctuation cleaned up). E.g. [101, 7592, 1010, 2088, 999, 102] → "hello, world!".
    /// O(total token length).
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool) -> String {
        var pieces: [String] = []
        pieces.reserveCapacity(ids.count)
        for id in ids where id >= 0 && Int(id) < tokens.count && !tokens[Int(id)].isEmpty {
            if skipSpecialTokens && specialIds.contains(id) { continue }
            pieces.append(tokens[Int(id)])
        }
        guard let decoder else { return pieces.joined(separator: " ") }
        return decoder.decode(pieces)
    }

    /// The vocabulary entry of `id` (e.g. "##izer", "[CLS]"), or nil for an id the tokenizer
    /// does not have.
    public func token(for id: Int32) -> String? {
        guard id >= 0, Int(id) < tokens.count, !tokens[Int(id)].isEmpty else { return nil }
        return tokens[Int(id)]
    }

    /// Whether `id` is a special token (one `decode(skipSpecialTokens: true)` leaves out).
    public func isSpecial(_ id: Int32) -> Bool { specialIds.contains(id) }
}
