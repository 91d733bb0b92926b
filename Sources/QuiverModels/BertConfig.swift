import Foundation
import QuiverCore

/// The fields of a Hugging Face BERT `config.json` that the forward pass uses
/// (https://huggingface.co/docs/transformers/model_doc/bert#transformers.BertConfig).
public struct BertConfig: Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var maxPositionEmbeddings: Int
    public var typeVocabSize: Int
    public var layerNormEps: Float
    /// `hidden_act`: "gelu" → `.gelu` (erf form); "gelu_new", "gelu_pytorch_tanh" → `.geluTanh`;
    /// "relu" → `.relu`.
    public var hiddenAct: Activation

    public var headSize: Int { hiddenSize / numAttentionHeads }

    public init(vocabSize: Int, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, intermediateSize: Int,
                maxPositionEmbeddings: Int, typeVocabSize: Int = 2, layerNormEps: Float = 1e-12, hiddenAct: Activation = .gelu) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.intermediateSize = intermediateSize
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.typeVocabSize = typeVocabSize
        self.layerNormEps = layerNormEps
        self.hiddenAct = hiddenAct
    }

    /// Reads and validates `path` (a `config.json`). Errors name the file and the field.
    public static func load(path: String) throws -> BertConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw QuiverError.io(path: path, detail: "cannot read the model config (is this a Hugging Face model directory?)")
        }
        let kind = try? JSONDecoder().decode(Kind.self, from: data)
        guard kind?.model_type == "bert" else {
            throw QuiverError.io(path: path, detail: "model_type \"\(kind?.model_type ?? "(missing)")\" is not supported; BertEncoder loads model_type \"bert\"")
        }
        let raw: Raw
        do {
            raw = try JSONDecoder().decode(Raw.self, from: data)
        } catch {
            throw QuiverError.io(path: path, detail: "bad config.json: \(error)")
        }
        let act: Activation
        switch raw.hidden_act ?? "gelu" {
        case "gelu": act = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": act = .geluTanh
        case "relu": act = .relu
        case let other: throw QuiverError.io(path: path, detail: "hidden_act \"\(other)\" is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)")
        }
        let config = BertConfig(vocabSize: raw.vocab_size, hiddenSize: raw.hidden_size, numHiddenLayers: raw.num_hidden_layers,
                                numAttentionHeads: raw.num_attention_heads, intermediateSize: raw.intermediate_size,
                                maxPositionEmbeddings: raw.max_position_embeddings, typeVocabSize: raw.type_vocab_size ?? 2,
                                layerNormEps: raw.layer_norm_eps ?? 1e-12, hiddenAct: act)
        if let embedding = raw.position_embedding_type, embedding != "absolute" {
            throw QuiverError.io(path: path, detail: "position_embedding_type \"\(embedding)\" is not supported (absolute)")
        }
        let sizes = [("vocab_size", config.vocabSize), ("hidden_size", config.hiddenSize), ("num_hidden_layers", config.numHiddenLayers),
                     ("num_attention_heads", config.numAttentionHeads), ("intermediate_size", config.intermediateSize),
                     ("max_position_embeddings", config.maxPositionEmbeddings), ("type_vocab_size", config.typeVocabSize)]
        for (name, value) in sizes where value <= 0 {
            throw QuiverError.io(path: path, detail: "\(name) must be positive, got \(value)")
        }
        guard config.hiddenSize % config.numAttentionHeads == 0 else {
            throw QuiverError.io(path: path, detail: "hidden_size \(config.hiddenSize) is not a multiple of num_attention_heads \(config.numAttentionHeads)")
        }
        return config
    }

    private struct Kind: Decodable { let model_type: String? }

    private struct Raw: Decodable {
        let vocab_size: Int
        let hidden_size: Int
        let num_hidden_layers: Int
        let num_attention_heads: Int
        let intermediate_size: Int
        let max_position_embeddings: Int
        let type_vocab_size: Int?
        let layer_norm_eps: Float?
        let hidden_act: String?
        let position_embedding_type: String?
    }
}
