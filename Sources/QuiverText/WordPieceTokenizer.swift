// The BERT WordPiece tokenizer, matching Hugging Face `tokenizers` (BertNormalizer +
// BertPreTokenizer + WordPiece + the [CLS] A [SEP] template) id for id.
// Upstream: huggingface/tokenizers tokenizers/src/normalizers/bert.rs,
// tokenizers/src/pre_tokenizers/bert.rs, tokenizers/src/models/wordpiece/mod.rs,
// tokenizers/src/tokenizer/added_vocabulary.rs.
import Foundation

/// A special or added token (tokenizers' `AddedToken`), split out of the text before
/// pre-tokenization: with `normalized: false` (BERT's specials) it is matched in the raw text,
/// e.g. "[SEP]" inside the input becomes id 102; with `normalized: true` its normalized content is
/// matched in the normalized text. Leftmost match first, the longest at one position.
struct AddedToken: Sendable {
    var scalars: [UInt32]
    var id: Int32
    /// Also swallow whitespace on the left / right of the match.
    var lstrip: Bool = false
    var rstrip: Bool = false
    var normalized: Bool = false
    /// A special token: `decode(skipSpecialTokens: true)` leaves it out.
    var special: Bool = false
}

/// BERT WordPiece tokenizer. Load one with `WordPieceTokenizer.load(directory:)`; it is an
/// immutable value, safe to share across threads.
///
/// Pipeline, per Unicode scalar (a Rust `char`, never a grapheme cluster):
/// 1. special tokens ("[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]") are split out of the raw text;
/// 2. BertNormalizer: clean_text (drop U+0000, U+FFFD, Cc/Cf/Co/Cs except \t \n \r; white space
///    to ' '), spaces around CJK ideographs, strip_accents (NFD, drop Mn), lowercase (per scalar,
///    like Rust's `char::to_lowercase`: 'İ' → "i̇", 'Σ' → 'σ' even word-finally);
/// 3. BertPreTokenizer: split on white space, each punctuation scalar a word of its own;
/// 4. WordPiece: greedy longest match, "##" on non-initial pieces; a word longer than
///    `max_input_chars_per_word` scalars, or with an unmatched rest, is one [UNK].
///
/// `encode` gives ids; `encodeWithOffsets` also each token's byte range in the input; `decode`
/// turns ids back into text (WordPieceDecoder.swift).
public struct WordPieceTokenizer: Sendable {
    let trie: VocabularyTrie
    /// Token string of each id ("" where the id is unused).
    let tokens: [String]
    /// Trie node after the continuation prefix ("##"), or nil when no vocab entry has it.
    let continuationNode: Int32?
    let normalizer: BertNormalizer
    let maxInputCharsPerWord: Int
    /// Added tokens matched in the raw text, and those matched in the normalized text (their
    /// `scalars` normalized).
    let addedTokens: [AddedToken]
    let normalizedAddedTokens: [AddedToken]
    /// Ids of the special added tokens ([CLS], [SEP], [PAD], [UNK], [MASK] for BERT).
    let specialIds: Set<Int32>
    /// How `decode` joins tokens (tokenizer.json's `decoder`); nil joins them with spaces.
    let decoder: WordPieceDecoder?

    /// Number of ids: one more than the largest id in the vocabulary and the added tokens.
    public let vocabularySize: Int
    /// Id of [PAD] (the padding id of tokenizer.json when it sets one).
    public let padId: Int32
    /// Id of [CLS], put first by `encode`.
    public let clsId: Int32
    /// Id of [SEP], put last by `encode`.
    public let sepId: Int32
    /// Id of [UNK], for words the vocabulary cannot spell.
    public let unkId: Int32

    init(vocab: [String: Int32], continuationPrefix: String, maxInputCharsPerWord: Int,
         cleanText: Bool, handleChineseChars: Bool, stripAccents: Bool, lowercase: Bool,
         addedTokens: [AddedToken], unkId: Int32, clsId: Int32, sepId: Int32, padId: Int32,
         decoder: WordPieceDecoder? = WordPieceDecoder()) {
        trie = VocabularyTrie(vocab)
        continuationNode = trie.walk(from: 0, continuationPrefix.utf8)
        let normalizer = BertNormalizer(cleanText: cleanText, handleChineseChars: handleChineseChars,
                                        stripAccents: stripAccents, lowercase: lowercase)
        self.normalizer = normalizer
        self.maxInputCharsPerWord = maxInputCharsPerWord
        self.addedTokens = addedTokens.filter { !$0.normalized }
        var scratch = Scratch()
        let normalizedAdded = addedTokens.filter(\.normalized).compactMap { t in
            var n = t
            normalizer.normalize(t.scalars[...], &scratch)
            n.scalars = scratch.normalized
            return n.scalars.isEmpty ? nil : n
        }
        normalizedAddedTokens = normalizedAdded
        var size = 0
        for (_, id) in vocab { size = max(size, Int(id) + 1) }
        for t in addedTokens { size = max(size, Int(t.id) + 1) }
        // Token strings; an added token outside the vocabulary reads as its content, normalized
        // for a normalized one (as tokenizers' id_to_token gives it, e.g. "Café" → "cafe").
        var tokens = [String](repeating: "", count: size)
        for (token, id) in vocab { tokens[Int(id)] = token }
        for t in self.addedTokens + normalizedAdded where tokens[Int(t.id)].isEmpty {
            var s = String.UnicodeScalarView()
            for v in t.scalars { if let u = Unicode.Scalar(v) { s.append(u) } }
            tokens[Int(t.id)] = String(s)
        }
        self.tokens = tokens
        vocabularySize = size
        specialIds = Set(addedTokens.filter(\.special).map(\.id))
        self.decoder = decoder
        self.unkId = unkId
        self.clsId = clsId
        self.sepId = sepId
        self.padId = padId
    }

    /// Token ids of `text`: `[CLS] pieces… [SEP]`, the pieces cut after the first
    /// `maxLength - 2` so the result has at most `maxLength` ids (like HF
    /// `truncation=True, max_length=maxLength`; no padding). A `maxLength` below 2 counts as 2:
    /// [CLS] and [SEP] are always there. Cost: O(text length); stops reading once full.
    public func encode(_ text: String, maxLength: Int) -> [Int32] {
        let limit = max(maxLength, 2) - 2
        var ids: [Int32] = []
        ids.reserveCapacity(min(limit, text.utf8.count + 2) + 2)
        ids.append(clsId)
        if limit > 0 { appendPieces(of: text, to: &ids, limit: limit + 1) }
        ids.append(sepId)
        return ids
    }

    /// Word pieces of `text` without [CLS]/[SEP] and without truncation, as token strings
    /// (e.g. "unbelievable" → ["unbelievable"], "tokenizer" → ["token", "##izer"]). For debugging.
    public func tokenize(_ text: String) -> [String] {
        var ids: [Int32] = []
        appendPieces(of: text, to: &ids, limit: Int.max)
        return ids.map { tokens[Int($0)] }
    }

    /// Appends the piece ids of `text` to `ids` until `ids.count == limit`.
    func appendPieces(of text: String, to ids: inout [Int32], limit: Int) {
        appendPieces(text.unicodeScalars.map(\.value), to: &ids, limit: limit)
    }

    /// The whole pipeline on the input scalars: each token goes to `sink`, until `sink.count == limit`.
    func appendPieces<Sink: TokenSink>(_ scalars: [UInt32], to sink: inout Sink, limit: Int) {
        var scratch = Scratch()
        if !addedTokens.isEmpty {
            forEachSplit(scalars, addedTokens, origins: nil, sink: &sink, limit: limit) { range, sink in
                appendSegment(scalars[range], to: &sink, limit: limit, &scratch)
            }
        } else {
            appendSegment(scalars[...], to: &sink, limit: limit, &scratch)
        }
    }

    /// Splits `text` on the `added` tokens: calls `segment` for each stretch between matches (in
    /// order) and adds each match to `sink`, until `sink.count == limit`. `origins` is nil when
    /// `text` is the raw input, else the input scalar of each (normalized) scalar of `text`.
    private func forEachSplit<Sink: TokenSink>(_ text: [UInt32], _ added: [AddedToken], origins: [Int32]?, sink: inout Sink,
                                               limit: Int, _ segment: (Range<Int>, inout Sink) -> Void) {
        var segmentStart = 0
        var i = 0
        while i < text.count && sink.count < limit {
            guard let (token, length) = addedToken(at: i, in: text, added) else { i += 1; continue }
            var start = i, end = i + length
            if token.lstrip {
                while start > segmentStart && CharClasses.of(text[start - 1]).contains(.whitespace) { start -= 1 }
            }
            if token.rstrip {
                while end < text.count && CharClasses.of(text[end]).contains(.whitespace) { end += 1 }
            }
            if segmentStart < start { segment(segmentStart..<start, &sink) }
            if sink.count < limit {
                if let origins { sink.add(token.id, normalized: start..<end, origins: origins) } else { sink.add(token.id, raw: start..<end) }
            }
            segmentStart = end
            i = end
        }
        if segmentStart < text.count && sink.count < limit { segment(segmentStart..<text.count, &sink) }
    }

    /// The longest added token that starts at `scalars[i]`.
    private func addedToken(at i: Int, in scalars: [UInt32], _ added: [AddedToken]) -> (AddedToken, Int)? {
        var best: (AddedToken, Int)? = nil
        for t in added where t.scalars.first == scalars[i] && t.scalars.count > (best?.1 ?? 0) {
            if i + t.scalars.count <= scalars.count && scalars[i..<(i + t.scalars.count)].elementsEqual(t.scalars) {
                best = (t, t.scalars.count)
            }
        }
        return best
    }

    /// Reusable buffers for one `encode` call.
    struct Scratch {
        var normalized: [UInt32] = []
        var other: [UInt32] = []
        /// Input scalar index of each `normalized` scalar (and of each `other` one while
        /// normalizing); only kept when the sink needs origins.
        var origins: [Int32] = []
        var otherOrigins: [Int32] = []
        var bytes: [UInt8] = []
        var pieces: [Int32] = []
        /// UTF-8 end of each piece in `bytes`; only kept when the sink needs origins.
        var pieceEnds: [Int] = []
    }

    /// Normalizes one stretch of text between added tokens, splits it into words and adds the
    /// words' pieces.
    private func appendSegment<Sink: TokenSink>(_ segment: ArraySlice<UInt32>, to sink: inout Sink, limit: Int, _ s: inout Scratch) {
        if segment.isEmpty || sink.count >= limit { return }
        if Sink.needsOrigins {
            normalizer.normalizeTrackingOrigins(segment, &s)
        } else {
            normalizer.normalize(segment, &s)
        }
        let norm = s.normalized
        if normalizedAddedTokens.isEmpty {
            preTokenize(norm, 0..<norm.count, to: &sink, limit: limit, &s)
        } else {
            forEachSplit(norm, normalizedAddedTokens, origins: Sink.needsOrigins ? s.origins : [], sink: &sink, limit: limit) { range, sink in
                preTokenize(norm, range, to: &sink, limit: limit, &s)
            }
        }
    }

    /// BertPreTokenizer on `norm[range]`: white space separates words; each punctuation scalar is a
    /// word of its own. Adds each word's pieces.
    private func preTokenize<Sink: TokenSink>(_ norm: [UInt32], _ range: Range<Int>, to sink: inout Sink, limit: Int,
                                              _ s: inout Scratch) {
        var wordStart = range.lowerBound
        var k = range.lowerBound
        while k < range.upperBound && sink.count < limit {
            let cls = CharClasses.of(norm[k])
            if cls.contains(.whitespace) || cls.contains(.punctuation) {
                if wordStart < k { appendWord(norm[wordStart..<k], to: &sink, limit: limit, &s) }
                if cls.contains(.punctuation) && sink.count < limit {
                    appendWord(norm[k..<(k + 1)], to: &sink, limit: limit, &s)
                }
                wordStart = k + 1
            }
            k += 1
        }
        if wordStart < range.upperBound && sink.count < limit {
            appendWord(norm[wordStart..<range.upperBound], to: &sink, limit: limit, &s)
        }
    }

    /// WordPiece on one pre-tokenized word (normalized scalars; the slice keeps their indices).
    private func appendWord<Sink: TokenSink>(_ word: ArraySlice<UInt32>, to sink: inout Sink, limit: Int, _ s: inout Scratch) {
        let whole = word.startIndex..<word.endIndex
        if word.count > maxInputCharsPerWord { sink.add(unkId, normalized: whole, origins: s.origins); return }
        s.bytes.removeAll(keepingCapacity: true)
        for cp in word { appendUTF8(cp, &s.bytes) }
        s.pieces.removeAll(keepingCapacity: true)
        if Sink.needsOrigins { s.pieceEnds.removeAll(keepingCapacity: true) }
        let ok: Bool = s.bytes.withUnsafeBufferPointer { buf in
            var start = 0
            while start < buf.count {
                let node: Int32
                if start == 0 { node = 0 } else if let c = continuationNode { node = c } else { return false }
                guard let m = trie.longestMatch(from: node, buf, start: start) else { return false }
                s.pieces.append(m.id)
                if Sink.needsOrigins { s.pieceEnds.append(m.end) }
                start = m.end
            }
            return true
        }
        if !ok { sink.add(unkId, normalized: whole, origins: s.origins); return }
        if Sink.needsOrigins {
            // Piece byte ends → scalar ends (pieces end on scalar boundaries).
            var scalar = word.startIndex, byte = 0, first = word.startIndex
            for (p, end) in zip(s.pieces, s.pieceEnds) {
                if sink.count >= limit { return }
                while byte < end { byte += utf8Length(word[scalar]); scalar += 1 }
                sink.add(p, normalized: first..<scalar, origins: s.origins)
                first = scalar
            }
        } else {
            for p in s.pieces {
                if sink.count >= limit { return }
                sink.add(p, normalized: whole, origins: [])
            }
        }
    }
}

/// Bytes of `cp` in UTF-8.
@inline(__always)
func utf8Length(_ cp: UInt32) -> Int {
    cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4
}

@inline(__always)
func appendUTF8(_ cp: UInt32, _ out: inout [UInt8]) {
    switch cp {
    case 0..<0x80:
        out.append(UInt8(cp))
    case 0x80..<0x800:
        out.append(UInt8(0xC0 | cp >> 6)); out.append(UInt8(0x80 | cp & 0x3F))
    case 0x800..<0x10000:
        out.append(UInt8(0xE0 | cp >> 12)); out.append(UInt8(0x80 | cp >> 6 & 0x3F))
        out.append(UInt8(0x80 | cp & 0x3F))
    default:
        out.append(UInt8(0xF0 | cp >> 18)); out.append(UInt8(0x80 | cp >> 12 & 0x3F))
        out.append(UInt8(0x80 | cp >> 6 & 0x3F)); out.append(UInt8(0x80 | cp & 0x3F))
    }
}
