/// The inputs of an embed request (OpenAI `input`, TEI `inputs`): a string, an array of
/// strings, an array of token ids, or an array of token-id arrays.
enum EmbeddingInput: Decodable, Sendable, Equatable {
    case texts([String])
    /// Token ids as sent: complete model inputs ([CLS] … [SEP] for BERT), used as they are.
    case tokens([[Int]])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let text = try? c.decode(String.self) {
            self = .texts([text])
        } else if let texts = try? c.decode([String].self) {
            self = .texts(texts)
        } else if let ids = try? c.decode([Int].self) {
            self = .tokens([ids])
        } else if let rows = try? c.decode([[Int]].self) {
            self = .tokens(rows)
        } else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "must be a string, an array of strings, an array of token ids or an array of token-id arrays."))
        }
    }

    /// Number of inputs.
    var count: Int {
        switch self {
        case let .texts(texts): texts.count
        case let .tokens(rows): rows.count
        }
    }
}

/// A catalog item named by its id (a string) or, without an ids file, its row (a number).
struct ItemReference: Decodable, Sendable {
    var value: String

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let id = try? c.decode(String.self) {
            value = id
        } else if let row = try? c.decode(Int.self) {
            value = String(row)
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "must be an item id (a string) or a catalog row (an integer)."))
        }
    }
}
