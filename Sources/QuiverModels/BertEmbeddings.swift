import QuiverCore

/// `BertEmbeddings`: word + position + token-type embeddings, then LayerNorm
/// (transformers `modeling_bert.py`, `BertEmbeddings.forward`).
///
/// The three lookups run on the host, straight from the memory-mapped safetensors file: the
/// tables (23M floats for BERT-base's vocabulary) never go to the device, and the gather for a
/// batch touches only the rows it needs. What crosses to the device per batch is the summed
/// `[B, S, H]` block (B·S·H floats, the same size as one activation), then LayerNorm runs there.
/// Token types are all 0 (single-segment input, as sentence-transformers encodes).
struct BertEmbeddings {
    let file: SafeTensors
    let wordEmbeddings: SafeTensors.Entry
    let positionEmbeddings: SafeTensors.Entry
    let tokenTypeEmbeddings: SafeTensors.Entry
    let layerNorm: LayerNorm
    let config: BertConfig

    static func load(_ w: Weights, _ config: BertConfig) throws -> BertEmbeddings {
        let h = config.hiddenSize
        return BertEmbeddings(
            file: w.file,
            wordEmbeddings: try w.entry("embeddings.word_embeddings.weight", shape: [config.vocabSize, h]),
            positionEmbeddings: try w.entry("embeddings.position_embeddings.weight", shape: [config.maxPositionEmbeddings, h]),
            tokenTypeEmbeddings: try w.entry("embeddings.token_type_embeddings.weight", shape: [config.typeVocabSize, h]),
            layerNorm: try LayerNorm.load(w, "embeddings.LayerNorm", hidden: h, epsilon: config.layerNormEps),
            config: config)
    }

    /// Embeds `inputIds` (`[batch, sequence]`, row-major) into `out: [B, S, H]`.
    func forward(inputIds: [Int32], batch: Int, sequence: Int, into out: DeviceTensor, on backend: any ComputeBackend) throws {
        let h = config.hiddenSize
        guard sequence <= config.maxPositionEmbeddings else {
            throw QuiverError.invalidArgument("sequence length \(sequence) exceeds max_position_embeddings \(config.maxPositionEmbeddings); truncate the input")
        }
        let sum = Tensor(zeros: [batch, sequence, h], .f32)
        let base = sum.storage.pointer.assumingMemoryBound(to: Float.self)
        for t in 0..<(batch * sequence) {
            let id = Int(inputIds[t])
            guard id >= 0, id < config.vocabSize else {
                throw QuiverError.invalidArgument("token id \(id) at batch row \(t / sequence), position \(t % sequence) is outside the vocabulary [0, \(config.vocabSize)); was the input tokenized with this model's vocabulary?")
            }
            let row = base + t * h
            try file.accumulateFloats(wordEmbeddings, from: id * h, count: h, into: row)
            try file.accumulateFloats(positionEmbeddings, from: (t % sequence) * h, count: h, into: row)
            try file.accumulateFloats(tokenTypeEmbeddings, from: 0, count: h, into: row)
        }
        try backend.upload(sum, to: out)
        try layerNorm.forward(out, residual: nil, into: out, on: backend)
    }
}
