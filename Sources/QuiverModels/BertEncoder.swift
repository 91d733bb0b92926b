import Foundation
import QuiverCore

/// A BERT encoder (`BertModel` without the pooler) running on a `ComputeBackend`. Weight keys and
/// structure follow Hugging Face transformers' `modeling_bert.py` (and candle's `bert.rs`):
/// `BertEmbeddings` → `num_hidden_layers` × `BertLayer`, returning the last hidden states.
///
/// Upstream: https://github.com/huggingface/transformers/blob/main/src/transformers/models/bert/modeling_bert.py
/// (`BertEmbeddings`, `BertSelfAttention`, `BertSelfOutput`, `BertIntermediate`, `BertOutput`) and
/// https://github.com/huggingface/candle/blob/main/candle-transformers/src/models/bert.rs.
///
/// Weights are read once from the memory-mapped `model.safetensors` and uploaded to the backend at
/// load time (about 4 × parameter-count bytes, minus the embedding tables, which stay mapped on the
/// host; see `BertEmbeddings`).
public final class BertEncoder: Sendable {
    public let config: BertConfig
    public let backend: any ComputeBackend
    public let directory: String
    let embeddings: BertEmbeddings
    let layers: [BertLayer]

    init(config: BertConfig, backend: any ComputeBackend, directory: String, embeddings: BertEmbeddings, layers: [BertLayer]) {
        self.config = config
        self.backend = backend
        self.directory = directory
        self.embeddings = embeddings
        self.layers = layers
    }

    /// Loads `directory/config.json` and `directory/model.safetensors` (keys with or without a
    /// `bert.` prefix). A missing tensor or a wrong shape throws naming the key and both shapes;
    /// `embeddings.position_ids` and `pooler.*` are not used.
    public static func load(directory: String, backend: any ComputeBackend) throws -> BertEncoder {
        let dir = URL(fileURLWithPath: directory)
        let config = try BertConfig.load(path: dir.appendingPathComponent("config.json").path)
        let file = try SafeTensors(path: dir.appendingPathComponent("model.safetensors").path)
        var weights = Weights(file: file, backend: backend)
        if file.entry("embeddings.word_embeddings.weight") == nil { weights.prefixes = ["", "bert."] }
        let embeddings = try BertEmbeddings.load(weights, config)
        let layers = try (0..<config.numHiddenLayers).map { try BertLayer.load(weights, index: $0, config) }
        return BertEncoder(config: config, backend: backend, directory: directory, embeddings: embeddings, layers: layers)
    }

    /// Last hidden states `[batch, sequence, hidden]` for `inputIds` and `attentionMask`
    /// (`batch × sequence` values each, row-major; mask nonzero = real token). Positions are
    /// `0..<sequence`, token types 0. Cost O(B·S·(12·H² + 2·S·H)) per layer.
    public func forward(inputIds: [Int32], attentionMask: [Int32], batch: Int, sequence: Int) throws -> DeviceTensor {
        guard batch > 0, sequence > 0 else {
            throw QuiverError.invalidArgument("BertEncoder.forward: batch (\(batch)) and sequence (\(sequence)) must be positive")
        }
        guard inputIds.count == batch * sequence, attentionMask.count == batch * sequence else {
            throw QuiverError.shapeMismatch(op: "BertEncoder.forward", detail: "inputIds has \(inputIds.count) and attentionMask \(attentionMask.count) values, expected batch \(batch) × sequence \(sequence) = \(batch * sequence)")
        }
        let mask = try backend.tensor(Tensor(shape: [batch, sequence], int32s: attentionMask))
        return try forward(inputIds: inputIds, mask: mask, batch: batch, sequence: sequence)
    }

    /// As above with the mask already on the device (`[B, S]` i32), so callers that pool reuse it.
    func forward(inputIds: [Int32], mask: DeviceTensor, batch: Int, sequence: Int) throws -> DeviceTensor {
        let x = try backend.uninitializedBuffer([batch, sequence, config.hiddenSize], .f32)   // embeddings fill it
        try embeddings.forward(inputIds: inputIds, batch: batch, sequence: sequence, into: x, on: backend)
        let scratch = try BertLayer.Scratch(batch: batch, sequence: sequence, config, on: backend)
        for layer in layers {
            try layer.forward(x, mask: mask, scratch: scratch, on: backend)
        }
        return x
    }
}
