// Token ids with where each token sits in the input (Hugging Face `Encoding.offsets`).

/// The tokens of one text with their place in it.
public struct TokenEncoding: Sendable, Equatable {
    /// Token ids, `[CLS] … [SEP]` when special tokens were added.
    public var ids: [Int32]
    /// For each token, its UTF-8 byte range in the input: `Array(text.utf8)[range]` is the text
    /// it came from ("Café" for the token "cafe", the whole word for an [UNK]). nil for the [CLS]
    /// and [SEP] put around the text (tokenizers' special_tokens_mask = 1); "[SEP]" written in
    /// the text is a token with an offset. Ranges are ordered and fall on scalar boundaries; two
    /// tokens can share input (the pieces of "ǅ"-like scalars that lowercase to several).
    public var offsets: [Range<Int>?]
}

extension WordPieceTokenizer {
    /// Tokens of `text`, untruncated, with their UTF-8 byte offsets into `text`: the ids equal
    /// `encode(text, maxLength: .max)` (without the first and last when `addSpecialTokens` is
    /// false), and the offsets equal Hugging Face `tokenizers`' (Rust `Tokenizer::encode`,
    /// byte offsets, which text-embeddings-inference's /tokenize reports).
    /// Cost O(text length), a few times the ids path's (which `encode` keeps to itself).
    public func encodeWithOffsets(_ text: String, addSpecialTokens: Bool = true) -> TokenEncoding {
        let scalars = text.unicodeScalars.map(\.value)
        var sink = ScalarSpanSink()
        appendPieces(scalars, to: &sink, limit: Int.max)
        // Input scalar index → UTF-8 byte offset.
        var byteStart = [Int](repeating: 0, count: scalars.count + 1)
        for (i, cp) in scalars.enumerated() { byteStart[i + 1] = byteStart[i] + utf8Length(cp) }
        var offsets: [Range<Int>?] = sink.spans.map { byteStart[$0.lowerBound]..<byteStart[$0.upperBound] }
        var ids = sink.ids
        if addSpecialTokens {
            ids = [clsId] + ids + [sepId]
            offsets = [nil] + offsets + [nil]
        }
        return TokenEncoding(ids: ids, offsets: offsets)
    }
}
