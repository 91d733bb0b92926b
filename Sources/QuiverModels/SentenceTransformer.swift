import Foundation
import QuiverCore

/// The sentence-transformers module list around a BERT encoder: Transformer → Pooling →
/// optional Normalize, read from `modules.json`, `1_Pooling/config.json` (or the Pooling
/// module's path) and `sentence_bert_config.json`.
public struct SentenceTransformerConfig: Sendable, Equatable {
    public var pooling: PoolingMode
    public var normalize: Bool
    /// Longest token sequence the model is meant to see (`max_seq_length`); tokenizers truncate to it.
    public var maxSeqLength: Int

    public init(pooling: PoolingMode = .mean, normalize: Bool = false, maxSeqLength: Int) {
        self.pooling = pooling
        self.normalize = normalize
        self.maxSeqLength = maxSeqLength
    }

    /// Reads the files under `directory`. Absent files give the defaults: mean pooling, no
    /// normalization, `maxSeqLength = defaultMaxLength` (the model's max_position_embeddings).
    /// Pooling modes other than mean and cls (max, mean-sqrt-len, weighted) are rejected.
    public static func load(directory: String, defaultMaxLength: Int) throws -> SentenceTransformerConfig {
        let dir = URL(fileURLWithPath: directory)
        var config = SentenceTransformerConfig(maxSeqLength: defaultMaxLength)
        var poolingPath = "1_Pooling"
        let modulesURL = dir.appendingPathComponent("modules.json")
        if let data = FileManager.default.contents(atPath: modulesURL.path) {
            let modules: [Module]
            do { modules = try JSONDecoder().decode([Module].self, from: data) } catch {
                throw QuiverError.io(path: modulesURL.path, detail: "bad modules.json: \(error)")
            }
            config.normalize = modules.contains { $0.type.hasSuffix(".Normalize") }
            if let pooling = modules.first(where: { $0.type.hasSuffix(".Pooling") }), let path = pooling.path, !path.isEmpty {
                poolingPath = path
            }
        }
        let poolingURL = dir.appendingPathComponent(poolingPath).appendingPathComponent("config.json")
        if let data = FileManager.default.contents(atPath: poolingURL.path) {
            let p: Pooling
            do { p = try JSONDecoder().decode(Pooling.self, from: data) } catch {
                throw QuiverError.io(path: poolingURL.path, detail: "bad pooling config: \(error)")
            }
            let unsupported = [("pooling_mode_max_tokens", p.pooling_mode_max_tokens), ("pooling_mode_mean_sqrt_len_tokens", p.pooling_mode_mean_sqrt_len_tokens),
                               ("pooling_mode_weightedmean_tokens", p.pooling_mode_weightedmean_tokens), ("pooling_mode_lasttoken", p.pooling_mode_lasttoken)]
                .filter { $0.1 == true }.map(\.0)
            let cls = p.pooling_mode_cls_token == true, mean = p.pooling_mode_mean_tokens == true
            guard unsupported.isEmpty, !(cls && mean) else {
                throw QuiverError.io(path: poolingURL.path, detail: "pooling \((unsupported + (cls && mean ? ["cls + mean"] : [])).joined(separator: ", ")) is not supported; Quiver pools with exactly one of mean or cls")
            }
            config.pooling = cls ? .cls : .mean
        }
        let sbertURL = dir.appendingPathComponent("sentence_bert_config.json")
        if let data = FileManager.default.contents(atPath: sbertURL.path) {
            do {
                let s = try JSONDecoder().decode(SBert.self, from: data)
                if let m = s.max_seq_length { config.maxSeqLength = min(m, defaultMaxLength) }
            } catch {
                throw QuiverError.io(path: sbertURL.path, detail: "bad sentence_bert_config.json: \(error)")
            }
        }
        return config
    }

    private struct Module: Decodable { let type: String; let path: String? }
    private struct Pooling: Decodable {
        let pooling_mode_cls_token: Bool?
        let pooling_mode_mean_tokens: Bool?
        let pooling_mode_max_tokens: Bool?
        let pooling_mode_mean_sqrt_len_tokens: Bool?
        let pooling_mode_weightedmean_tokens: Bool?
        let pooling_mode_lasttoken: Bool?
    }
    private struct SBert: Decodable { let max_seq_length: Int? }
}

/// A sentence-transformers model: `BertEncoder` → pool (mean|cls) → optional L2 normalize.
/// Matches `SentenceTransformer.encode` given the same token ids.
public final class SentenceTransformer: Sendable {
    public let encoder: BertEncoder
    public let config: SentenceTransformerConfig

    public init(encoder: BertEncoder, config: SentenceTransformerConfig) {
        self.encoder = encoder
        self.config = config
    }

    /// Loads the BERT weights and the sentence-transformers module files from `directory`.
    public static func load(directory: String, backend: any ComputeBackend) throws -> SentenceTransformer {
        let encoder = try BertEncoder.load(directory: directory, backend: backend)
        let config = try SentenceTransformerConfig.load(directory: directory, defaultMaxLength: encoder.config.maxPositionEmbeddings)
        return SentenceTransformer(encoder: encoder, config: config)
    }

    public var dimension: Int { encoder.config.hiddenSize }

    /// What one forward pass hands back (see `forward(…, outputs:)`).
    public struct Outputs: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// The pipeline's output: pooled, then L2-normalized when it has a Normalize module.
        public static let embeddings = Outputs(rawValue: 1)
        /// The pooled vectors before any Normalize module.
        public static let pooled = Outputs(rawValue: 2)
        /// The encoder's last hidden states, one vector per token (padding included).
        public static let tokens = Outputs(rawValue: 4)
    }

    /// The requested outputs of one forward pass, row-major floats; nil where not requested.
    public struct Forward: Sendable {
        /// `[batch, dimension]`.
        public var embeddings: [Float]?
        /// `[batch, dimension]`.
        public var pooled: [Float]?
        /// `[batch, sequence, dimension]`; rows past a sequence's mask are padding.
        public var tokens: [Float]?
    }

    /// Sentence embeddings, `batch` rows of `dimension` floats (row-major), for token ids and
    /// mask of `batch × sequence` values. Sequences longer than `maxSeqLength` are rejected (truncate
    /// when tokenizing).
    public func embed(inputIds: [Int32], attentionMask: [Int32], batch: Int, sequence: Int) throws -> [Float] {
        try forward(inputIds: inputIds, attentionMask: attentionMask, batch: batch, sequence: sequence, outputs: .embeddings).embeddings!
    }

    /// One encoder pass and whichever `outputs` are asked for: the embeddings (as `embed`), the
    /// pooled vectors before Normalize (what TEI's `normalize: false` returns), and the last hidden
    /// states (`BertModel.last_hidden_state`, sentence-transformers' `token_embeddings`). Only what
    /// is asked for is pooled and copied back from the device.
    public func forward(inputIds: [Int32], attentionMask: [Int32], batch: Int, sequence: Int, outputs: Outputs) throws -> Forward {
        guard sequence <= config.maxSeqLength else {
            throw QuiverError.invalidArgument("sequence length \(sequence) exceeds the model's max_seq_length \(config.maxSeqLength); truncate when tokenizing")
        }
        guard batch > 0, sequence > 0, inputIds.count == batch * sequence, attentionMask.count == batch * sequence else {
            throw QuiverError.shapeMismatch(op: "SentenceTransformer.embed", detail: "inputIds has \(inputIds.count) and attentionMask \(attentionMask.count) values, expected batch \(batch) × sequence \(sequence) (both positive)")
        }
        let backend = encoder.backend
        let mask = try backend.tensor(Tensor(shape: [batch, sequence], int32s: attentionMask))
        let hidden = try encoder.forward(inputIds: inputIds, mask: mask, batch: batch, sequence: sequence)
        var result = Forward()
        if outputs.contains(.tokens) { result.tokens = try backend.download(hidden).floats() }
        guard !outputs.isDisjoint(with: [.embeddings, .pooled]) else { return result }
        let pooled = try backend.buffer([batch, dimension], .f32)
        try backend.pool(hidden, mask: mask, mode: config.pooling, into: pooled)
        if outputs.contains(.pooled) || !config.normalize {
            let raw = try backend.download(pooled).floats()
            if outputs.contains(.pooled) { result.pooled = raw }
            if !config.normalize, outputs.contains(.embeddings) { result.embeddings = raw }
        }
        if config.normalize, outputs.contains(.embeddings) {
            try backend.l2Normalize(pooled, into: pooled)
            result.embeddings = try backend.download(pooled).floats()
        }
        return result
    }
}
