import Foundation
import QuiverRuntime

/// What the OpenAI and TEI embed routes share: request limits, tokenization with the truncate
/// rule, token-id validation, the engine call, and TEI's `normalize`.
struct EmbeddingService: Sendable {
    let configuration: ServerConfiguration
    let metrics: ServerMetrics

    /// Embeddings in input order, and the tokens they used.
    struct Result {
        var vectors: [[Float]]
        var tokens: Int
    }

    /// Checks the inputs against the limits, turns them into model inputs and embeds them.
    /// - Parameters:
    ///   - field: the request's name for the inputs (`input` or `inputs`), for error messages.
    ///   - truncate: cut inputs longer than the model's max length instead of answering 413.
    ///   - output: what each input gets (`TextOutput`): its embedding, its pooled vector before
    ///     Normalize, or its tokens' hidden states (`tokens × dimension` floats per input).
    func embed(_ input: EmbeddingInput, with model: ServedModel, field: String, truncate: Bool,
               output: TextOutput = .embedding) async throws -> Result {
        let ids = try modelInputs(input, for: model, field: field, truncate: truncate)
        let count = ids.count
        metrics.inputsInEngine(model.name, count)
        defer { metrics.inputsInEngine(model.name, -count) }
        let vectors = try await model.engine.embed(tokenIds: ids, output: output, timeout: configuration.requestTimeout)
        let tokens = ids.reduce(0) { $0 + $1.count }
        metrics.embedded(model.name, inputs: count, tokens: tokens)
        return Result(vectors: vectors, tokens: tokens)
    }

    /// Token ids per input: texts tokenized like sentence-transformers ([CLS] … [SEP]); token-id
    /// arrays used as sent. Throws 400 for empty or invalid inputs, 413 for too many or too long.
    func modelInputs(_ input: EmbeddingInput, for model: ServedModel, field: String, truncate: Bool) throws -> [[Int32]] {
        guard let tokenizer = model.engine.tokenizer else {
            throw APIError.badRequest("`\(model.name)` serves a catalog only; it has no text model to embed with.", code: "no_text_model", param: "model")
        }
        try checkCount(input.count, field: field)
        let maxLength = tokenizer.maxLength
        let tooLong = { (i: Int) in
            APIError.tooLarge("`\(field)[\(i)]` has more than \(maxLength) tokens, the most `\(model.name)` takes; shorten it or send \"truncate\": true.",
                              code: "input_too_long", param: field)
        }
        switch input {
        case let .texts(texts):
            return try texts.enumerated().map { i, text in
                guard !text.isEmpty else {
                    throw APIError.badRequest("`\(field)[\(i)]` is an empty string; every input needs some text.", code: "empty_input", param: field)
                }
                let ids = tokenizer.tokenizer.encode(text, maxLength: maxLength + 1)
                guard ids.count > maxLength else { return ids }
                if truncate { return tokenizer.encode(text) }
                throw tooLong(i)
            }
        case let .tokens(rows):
            let vocabulary = tokenizer.tokenizer.vocabularySize
            return try rows.enumerated().map { i, row in
                guard !row.isEmpty else {
                    throw APIError.badRequest("`\(field)[\(i)]` is an empty token-id array.", code: "empty_input", param: field)
                }
                if let j = row.firstIndex(where: { !(0..<vocabulary).contains($0) }) {
                    throw APIError.badRequest("`\(field)[\(i)][\(j)]` = \(row[j]) is not a token id of `\(model.name)` (0 ..< \(vocabulary)).",
                                              code: "invalid_token_id", param: field)
                }
                if row.count > maxLength, !truncate { throw tooLong(i) }
                return row.prefix(maxLength).map { Int32($0) }
            }
        }
    }

    /// 400 for no inputs, 413 for more than `maxInputs`.
    func checkCount(_ count: Int, field: String) throws {
        guard count > 0 else {
            throw APIError.badRequest("`\(field)` is empty; send at least one input.", code: "empty_input", param: field)
        }
        guard count <= configuration.maxInputs else {
            throw APIError.tooLarge("`\(field)` has \(count) inputs; this server takes at most \(configuration.maxInputs) per request (--max-inputs).",
                                    code: "too_many_inputs", param: field)
        }
    }

    /// What TEI's `normalize` asks of the engine: `true` the embedding (unit length when the
    /// pipeline ends in Normalize, else normalized by `normalizeRows`), `false` the pooled vector
    /// before any Normalize module (TEI pools and normalizes itself, ignoring the module).
    static func output(normalize: Bool) -> TextOutput { normalize ? .embedding : .pooled }

    /// TEI's `normalize: true` on a model whose pipeline does not normalize: unit-length rows
    /// (sum of squares in float64, as TEI); rows of a normalizing model pass through.
    static func normalizeRows(_ vectors: [[Float]], model: ServedModel) -> [[Float]] {
        if model.normalizes { return vectors }
        return vectors.map { v in
            let norm = v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
            return norm > 0 ? v.map { Float(Double($0) / norm) } : v
        }
    }

    /// `dimensions` (OpenAI and TEI): only the model's own width is possible.
    static func checkDimensions(_ dimensions: Int?, model: ServedModel) throws {
        guard let dimensions, let width = model.engine.dimension, dimensions != width else { return }
        throw APIError.badRequest("`\(model.name)` returns \(width)-dimensional embeddings and cannot shorten them; omit `dimensions` or pass \(width).",
                                  code: "invalid_dimensions", param: "dimensions")
    }
}
