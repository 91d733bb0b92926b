// Loading a WordPiece tokenizer from a model folder: tokenizer.json (Hugging Face `tokenizers`
// format), or vocab.txt + tokenizer_config.json (transformers' BertTokenizer) when it is absent.
import Foundation

/// Why a tokenizer could not be loaded: the message names the file and what is wrong.
public struct TokenizerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension WordPieceTokenizer {
    /// Loads the tokenizer of the model folder `directory`: its tokenizer.json when present
    /// (normalizer BertNormalizer, pre-tokenizer BertPreTokenizer, model WordPiece, post-processor
    /// [CLS] A [SEP]), else vocab.txt with tokenizer_config.json (do_lower_case, strip_accents,
    /// tokenize_chinese_chars; BERT defaults for what is missing). The truncation and padding
    /// settings in tokenizer.json are ignored: `encode` takes the maximum length.
    /// Throws `TokenizerError` for a missing folder or files, malformed JSON, or a tokenizer that
    /// is not a BERT WordPiece one (BPE, Unigram, other normalizers/pre-tokenizers).
    public static func load(directory: String) throws -> WordPieceTokenizer {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw TokenizerError("tokenizer folder \(directory) does not exist or is not a folder "
                + "(expected a model folder with tokenizer.json or vocab.txt)")
        }
        let dir = URL(fileURLWithPath: directory)
        let json = dir.appendingPathComponent("tokenizer.json").path
        if FileManager.default.fileExists(atPath: json) { return try fromTokenizerJSON(path: json) }
        let vocab = dir.appendingPathComponent("vocab.txt").path
        if FileManager.default.fileExists(atPath: vocab) {
            return try fromVocabTxt(path: vocab, configPath: dir.appendingPathComponent("tokenizer_config.json").path)
        }
        throw TokenizerError("\(directory) has neither tokenizer.json nor vocab.txt; "
            + "a BERT model folder needs one of them (run scripts/fetch-model.sh for all-MiniLM-L6-v2)")
    }

    static func readJSONObject(_ path: String) throws -> [String: Any] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw TokenizerError("cannot read \(path): \(error.localizedDescription)")
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw TokenizerError("\(path) is not valid JSON: \(error.localizedDescription)")
        }
        guard let dict = object as? [String: Any] else {
            throw TokenizerError("\(path): expected a JSON object at the top level")
        }
        return dict
    }

    /// `x` as a type name for messages ("BPE", or "null").
    private static func typeName(_ x: Any?) -> String {
        guard let d = x as? [String: Any] else { return x == nil || x is NSNull ? "null" : "\(x!)" }
        return d["type"] as? String ?? "(no type)"
    }

    private static func int(_ x: Any?) -> Int? { (x as? NSNumber)?.intValue }

    /// tokenizer.json (Hugging Face `tokenizers`).
    static func fromTokenizerJSON(path: String) throws -> WordPieceTokenizer {
        let root = try readJSONObject(path)
        guard let model = root["model"] as? [String: Any] else {
            throw TokenizerError("\(path): no \"model\" object")
        }
        let modelType = model["type"] as? String ?? (model["max_input_chars_per_word"] != nil ? "WordPiece" : "unknown")
        guard modelType == "WordPiece" else {
            throw TokenizerError("\(path): model type \(modelType) is not supported; "
                + "only WordPiece (BERT) tokenizers are supported")
        }
        guard let rawVocab = model["vocab"] as? [String: Any] else {
            throw TokenizerError("\(path): model.vocab is missing or not an object of token → id")
        }
        var vocab: [String: Int32] = [:]
        vocab.reserveCapacity(rawVocab.count)
        for (token, id) in rawVocab {
            guard let i = int(id), i >= 0, i <= Int(Int32.max) else {
                throw TokenizerError("\(path): model.vocab[\(token)] is not a non-negative integer id")
            }
            vocab[token] = Int32(i)
        }
        let unkToken = model["unk_token"] as? String ?? "[UNK]"
        let prefix = model["continuing_subword_prefix"] as? String ?? "##"
        let maxChars = int(model["max_input_chars_per_word"]) ?? 100

        // Normalizer: BertNormalizer, or none.
        var clean = false, chinese = false, strip = false, lower = false
        if let n = root["normalizer"] as? [String: Any] {
            guard n["type"] as? String == "BertNormalizer" else {
                throw TokenizerError("\(path): normalizer \(typeName(n)) is not supported; "
                    + "only WordPiece (BERT) tokenizers with a BertNormalizer are supported")
            }
            clean = n["clean_text"] as? Bool ?? true
            chinese = n["handle_chinese_chars"] as? Bool ?? true
            lower = n["lowercase"] as? Bool ?? true
            strip = n["strip_accents"] as? Bool ?? lower  // null: follow lowercase
        } else if !(root["normalizer"] == nil || root["normalizer"] is NSNull) {
            throw TokenizerError("\(path): normalizer must be an object or null")
        }
        let pre = root["pre_tokenizer"]
        guard typeName(pre) == "BertPreTokenizer" else {
            throw TokenizerError("\(path): pre_tokenizer \(typeName(pre)) is not supported; "
                + "only WordPiece (BERT) tokenizers with a BertPreTokenizer are supported")
        }

        // Added tokens: matched in the raw text ("normalized": false, as BERT's specials are) or in
        // the normalized text. "single_word" is not supported (BERT tokenizers leave it false).
        var added: [AddedToken] = []
        var addedIds: [String: Int32] = [:]
        for case let t as [String: Any] in root["added_tokens"] as? [Any] ?? [] {
            guard let content = t["content"] as? String, let id = int(t["id"]), id >= 0 else {
                throw TokenizerError("\(path): an added_tokens entry lacks content or id")
            }
            addedIds[content] = Int32(id)
            if content.isEmpty { continue }
            let special = t["special"] as? Bool ?? false
            added.append(AddedToken(scalars: content.unicodeScalars.map(\.value), id: Int32(id),
                                    lstrip: t["lstrip"] as? Bool ?? false, rstrip: t["rstrip"] as? Bool ?? false,
                                    normalized: t["normalized"] as? Bool ?? !special, special: special))
        }
        func lookup(_ token: String, _ role: String) throws -> Int32 {
            if let id = vocab[token] ?? addedIds[token] { return id }
            throw TokenizerError("\(path): the \(role) token \(token) is not in the vocabulary")
        }
        let unkId = try lookup(unkToken, "unknown")

        // Post-processor: [CLS] A [SEP].
        var clsToken = "[CLS]", sepToken = "[SEP]"
        var clsId: Int32? = nil, sepId: Int32? = nil
        if let p = root["post_processor"] as? [String: Any] {
            switch p["type"] as? String {
            case "TemplateProcessing":
                let single = p["single"] as? [[String: Any]] ?? []
                let specials = p["special_tokens"] as? [String: Any] ?? [:]
                func special(_ item: [String: Any]?) -> (String, Int32?)? {
                    guard let s = item?["SpecialToken"] as? [String: Any], let name = s["id"] as? String else { return nil }
                    let ids = (specials[name] as? [String: Any])?["ids"] as? [Any]
                    return (name, ids?.count == 1 ? int(ids?[0]).map(Int32.init) : nil)
                }
                guard single.count == 3, single[1]["Sequence"] != nil,
                      let c = special(single.first), let s = special(single.last) else {
                    throw TokenizerError("\(path): post_processor template is not \"[CLS] $A [SEP]\"; "
                        + "only WordPiece (BERT) tokenizers are supported")
                }
                (clsToken, clsId) = c
                (sepToken, sepId) = s
            case "BertProcessing":
                if let c = p["cls"] as? [Any], c.count == 2, let name = c[0] as? String { clsToken = name; clsId = int(c[1]).map(Int32.init) }
                if let s = p["sep"] as? [Any], s.count == 2, let name = s[0] as? String { sepToken = name; sepId = int(s[1]).map(Int32.init) }
            default:
                throw TokenizerError("\(path): post_processor \(typeName(p)) is not supported; "
                    + "only WordPiece (BERT) tokenizers ([CLS] A [SEP]) are supported")
            }
        }
        let cls = try clsId ?? lookup(clsToken, "classification")
        let sep = try sepId ?? lookup(sepToken, "separator")
        var pad: Int32 = vocab["[PAD]"] ?? addedIds["[PAD]"] ?? 0
        if let padding = root["padding"] as? [String: Any], let id = int(padding["pad_id"]) { pad = Int32(id) }

        // Decoder: WordPiece (prefix, cleanup), or none (tokens joined with spaces).
        var decoder: WordPieceDecoder? = nil
        if let d = root["decoder"] as? [String: Any] {
            guard d["type"] as? String == "WordPiece" else {
                throw TokenizerError("\(path): decoder \(typeName(d)) is not supported; "
                    + "only WordPiece (BERT) tokenizers with a WordPiece decoder (or none) are supported")
            }
            decoder = WordPieceDecoder(prefix: d["prefix"] as? String ?? "##", cleanup: d["cleanup"] as? Bool ?? true)
        } else if !(root["decoder"] == nil || root["decoder"] is NSNull) {
            throw TokenizerError("\(path): decoder must be an object or null")
        }
        return WordPieceTokenizer(vocab: vocab, continuationPrefix: prefix, maxInputCharsPerWord: maxChars,
                                  cleanText: clean, handleChineseChars: chinese, stripAccents: strip, lowercase: lower,
                                  addedTokens: added, unkId: unkId, clsId: cls, sepId: sep, padId: pad, decoder: decoder)
    }

    /// vocab.txt (one token a line, id = line number) + tokenizer_config.json (optional); decodes
    /// like transformers' BertTokenizerFast (WordPiece decoder, "##", cleanup).
    static func fromVocabTxt(path: String, configPath: String) throws -> WordPieceTokenizer {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TokenizerError("cannot read \(path) as UTF-8 text: \(error.localizedDescription)")
        }
        var vocab: [String: Int32] = [:]
        var id: Int32 = 0
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        for line in lines {
            // like tokenizers' WordPiece::read_file: trailing white space trimmed, later lines win
            var scalars = Substring(line).unicodeScalars[...]
            while let last = scalars.last, CharClasses.whitespaceScalars.contains(last.value) { scalars.removeLast() }
            vocab[String(String.UnicodeScalarView(scalars))] = id
            id += 1
        }
        if vocab.isEmpty { throw TokenizerError("\(path) is empty; expected one token a line") }
        var config: [String: Any] = [:]
        if FileManager.default.fileExists(atPath: configPath) { config = try readJSONObject(configPath) }
        func tokenName(_ key: String, _ fallback: String) -> String {
            if let s = config[key] as? String { return s }
            if let d = config[key] as? [String: Any], let s = d["content"] as? String { return s }
            return fallback
        }
        let lower = config["do_lower_case"] as? Bool ?? true
        let strip = config["strip_accents"] as? Bool ?? lower
        let chinese = config["tokenize_chinese_chars"] as? Bool ?? true
        let names = [("unk_token", "[UNK]"), ("sep_token", "[SEP]"), ("pad_token", "[PAD]"),
                     ("cls_token", "[CLS]"), ("mask_token", "[MASK]")].map { tokenName($0.0, $0.1) }
        var added: [AddedToken] = []
        for name in names where !name.isEmpty {
            if let id = vocab[name] {
                added.append(AddedToken(scalars: name.unicodeScalars.map(\.value), id: id, special: true))
            }
        }
        func lookup(_ token: String, _ role: String) throws -> Int32 {
            if let id = vocab[token] { return id }
            throw TokenizerError("\(path): the \(role) token \(token) is not in the vocabulary")
        }
        return WordPieceTokenizer(vocab: vocab, continuationPrefix: "##", maxInputCharsPerWord: 100,
                                  cleanText: true, handleChineseChars: chinese, stripAccents: strip, lowercase: lower,
                                  addedTokens: added, unkId: try lookup(names[0], "unknown"),
                                  clsId: try lookup(names[3], "classification"), sepId: try lookup(names[1], "separator"),
                                  padId: vocab[names[2]] ?? 0)
    }
}
