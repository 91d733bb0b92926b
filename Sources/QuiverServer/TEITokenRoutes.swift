import Foundation
import Hummingbird
import QuiverRuntime

/// TEI's tokenizer routes: `POST /tokenize` (texts → tokens with their place in the text) and
/// `POST /decode` (ids → text). Shapes, defaults and errors follow TEI's router
/// (router/src/http/server.rs, `tokenize` and `decode`); `"model"` picks a served model (Quiver).
enum TEITokenRoutes {
    /// `{"inputs": string | [string], "add_special_tokens": true, "prompt_name": null}`.
    struct TokenizeRequest: Decodable {
        var inputs: EmbeddingInput
        var addSpecialTokens: Bool?
        var promptName: String?
        var model: String?

        enum CodingKeys: String, CodingKey {
            case inputs, model
            case addSpecialTokens = "add_special_tokens", promptName = "prompt_name"
        }
    }

    /// One token of `/tokenize` (TEI's `SimpleToken`). For a token of the text: `text` is the
    /// input it came from (`"Café"` for the token `cafe`, a whole emoji for `[UNK]`), `start`/`stop`
    /// its UTF-8 byte offsets in the input. For [CLS]/[SEP] added around it: the token's own
    /// string, `special: true`, `start`/`stop` null.
    struct Token: Encodable, Equatable {
        var id: Int32
        var text: String
        var special: Bool
        var start: Int?
        var stop: Int?

        enum CodingKeys: String, CodingKey { case id, text, special, start, stop }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(text, forKey: .text)
            try c.encode(special, forKey: .special)
            try c.encode(start, forKey: .start)  // null, as TEI sends it
            try c.encode(stop, forKey: .stop)
        }
    }

    /// `{"ids": [id] | [[id]], "skip_special_tokens": true}`; ids are u32 as in TEI.
    struct DecodeRequest: Decodable {
        var ids: IDs
        var skipSpecialTokens: Bool?
        var model: String?

        enum CodingKeys: String, CodingKey {
            case ids, model
            case skipSpecialTokens = "skip_special_tokens"
        }

        enum IDs: Decodable {
            case single([UInt32])
            case batch([[UInt32]])

            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let one = try? c.decode([UInt32].self) {
                    self = .single(one)
                } else if let many = try? c.decode([[UInt32]].self) {
                    self = .batch(many)
                } else {
                    throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                            debugDescription: "must be an array of token ids (0 ... 4294967295) or an array of such arrays."))
                }
            }
        }
    }

    static func register(on router: Router<BasicRequestContext>, state: ServerState) {
        router.post("/tokenize") { request, _ in
            let body = try await JSONBody.decode(TokenizeRequest.self, from: request, limit: state.configuration.maxBodyBytes)
            return try JSONBody.response(try tokenize(body, state: state))
        }
        router.post("/decode") { request, _ in
            let body = try await JSONBody.decode(DecodeRequest.self, from: request, limit: state.configuration.maxBodyBytes)
            return try JSONBody.response(try decode(body, state: state))
        }
    }

    /// `[[Token]]`, one list per text, untruncated (TEI's /tokenize does not truncate).
    /// Empty texts are 400 (TEI's Empty), more than `--max-inputs` 413.
    static func tokenize(_ body: TokenizeRequest, state: ServerState) throws -> [[Token]] {
        let model = try state.registry.resolve(body.model)
        let tokenizer = try self.tokenizer(of: model)
        guard case let .texts(texts) = body.inputs else {
            throw APIError.badRequest("`inputs` must be a string or an array of strings.", code: "invalid_type", param: "inputs")
        }
        if let prompt = body.promptName {
            throw APIError.badRequest("`prompt_name` \"\(prompt)\" is not supported: `\(model.name)` defines no prompts.",
                                      code: "unknown_prompt", param: "prompt_name")
        }
        try state.embeddings.checkCount(texts.count, field: "inputs")
        if let i = texts.firstIndex(where: \.isEmpty) {
            throw APIError.badRequest("`inputs[\(i)]` is an empty string; every input needs some text.", code: "empty_input", param: "inputs")
        }
        let special = body.addSpecialTokens ?? true
        return texts.map { text in
            let encoding = tokenizer.tokenizer.encodeWithOffsets(text, addSpecialTokens: special)
            let bytes = Array(text.utf8)
            return zip(encoding.ids, encoding.offsets).map { id, range in
                guard let range else { return Token(id: id, text: tokenizer.tokenizer.token(for: id) ?? "", special: true) }
                return Token(id: id, text: String(decoding: bytes[range], as: UTF8.self), special: false,
                             start: range.lowerBound, stop: range.upperBound)
            }
        }
    }

    /// `[String]`, one text per id list (a single list answers a list of one), like Hugging Face
    /// `decode`: ids outside the vocabulary are left out. Empty lists are 400 (TEI's Empty).
    static func decode(_ body: DecodeRequest, state: ServerState) throws -> [String] {
        let model = try state.registry.resolve(body.model)
        let tokenizer = try self.tokenizer(of: model)
        let lists: [[UInt32]]
        switch body.ids {
        case let .single(ids): lists = [ids]
        case let .batch(many):
            guard !many.isEmpty else {
                throw APIError.badRequest("`ids` is empty; send at least one list of token ids.", code: "empty_input", param: "ids")
            }
            try state.embeddings.checkCount(many.count, field: "ids")
            lists = many
        }
        if let i = lists.firstIndex(where: \.isEmpty) {
            let field = lists.count == 1 && body.ids.isSingle ? "ids" : "ids[\(i)]"
            throw APIError.badRequest("`\(field)` is an empty list; send at least one token id.", code: "empty_input", param: "ids")
        }
        let skip = body.skipSpecialTokens ?? true
        return lists.map { ids in
            tokenizer.tokenizer.decode(ids.map { $0 <= UInt32(Int32.max) ? Int32($0) : -1 }, skipSpecialTokens: skip)
        }
    }

    private static func tokenizer(of model: ServedModel) throws -> TextTokenizer {
        guard let tokenizer = model.engine.tokenizer else {
            throw APIError.badRequest("`\(model.name)` serves a catalog only; it has no tokenizer.", code: "no_text_model", param: "model")
        }
        return tokenizer
    }
}

private extension TEITokenRoutes.DecodeRequest.IDs {
    var isSingle: Bool { if case .single = self { true } else { false } }
}
