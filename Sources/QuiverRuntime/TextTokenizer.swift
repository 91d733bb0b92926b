import Foundation
import QuiverCore
import QuiverModels
import QuiverText

/// A model's tokenizer with the truncation length the model is used with: `maxLength` if given,
/// else sentence_bert_config.json's `max_seq_length` (256 for all-MiniLM-L6-v2, not the 128 baked
/// into its tokenizer.json), else the model's position table (`max_position_embeddings`).
public struct TextTokenizer: Sendable {
    public let tokenizer: WordPieceTokenizer
    /// Tokens per input after truncation, [CLS] and [SEP] included.
    public let maxLength: Int
    public let modelDirectory: String

    /// Reads the tokenizer and configuration of the model `ModelLocator` finds for `spec`; loads no weights.
    public init(model spec: String, maxLength: Int? = nil) throws {
        modelDirectory = try ModelLocator.resolve(spec)
        do {
            tokenizer = try WordPieceTokenizer.load(directory: modelDirectory)
        } catch {
            throw QuiverError.io(path: modelDirectory, detail: "\(error)")
        }
        let bert = try BertConfig.load(path: (modelDirectory as NSString).appendingPathComponent("config.json"))
        let sentence = try SentenceTransformerConfig.load(directory: modelDirectory, defaultMaxLength: bert.maxPositionEmbeddings)
        let limit = min(sentence.maxSeqLength, bert.maxPositionEmbeddings)
        if let maxLength, !(2...bert.maxPositionEmbeddings).contains(maxLength) {
            throw QuiverError.invalidArgument(
                "--max-length \(maxLength) is outside 2...\(bert.maxPositionEmbeddings) (the model's position table) for \(modelDirectory)")
        }
        self.maxLength = maxLength ?? limit
    }

    /// Token ids of `text`: [CLS] pieces… [SEP], at most `maxLength`.
    public func encode(_ text: String) -> [Int32] {
        tokenizer.encode(text, maxLength: maxLength)
    }
}
