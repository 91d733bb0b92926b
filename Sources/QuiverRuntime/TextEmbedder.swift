import Foundation
import QuiverCore
import QuiverModels
import QuiverText

/// Text → embedding vectors with a sentence-transformers style model (BERT + pooling + optional
/// normalize), batched the way the backend pays for it.
///
/// `embed` tokenizes, sorts the inputs by token count so each batch pads to a similar length,
/// runs the batches, and returns rows in input order.
public final class TextEmbedder {
    public let tokenizer: TextTokenizer
    public let model: SentenceTransformer

    /// Loads the model `ModelLocator` finds for `spec` onto `backend`; `maxLength` as in `TextTokenizer`.
    public init(model spec: String, backend: any ComputeBackend, maxLength: Int? = nil) throws {
        tokenizer = try TextTokenizer(model: spec, maxLength: maxLength)
        let loaded = try SentenceTransformer.load(directory: tokenizer.modelDirectory, backend: backend)
        // An explicit max length above max_seq_length is allowed up to the position table.
        var config = loaded.config
        config.maxSeqLength = max(config.maxSeqLength, tokenizer.maxLength)
        model = SentenceTransformer(encoder: loaded.encoder, config: config)
    }

    /// Embedding width.
    public var dimension: Int { model.dimension }

    /// Embeddings of `texts` as rows `[texts.count, dimension]`, in input order.
    public func embed(_ texts: [String], batchSize: Int) throws -> [Float] {
        try embed(ids: texts.map(tokenizer.encode), batchSize: batchSize)
    }

    /// Embeddings of pre-tokenized inputs, rows in input order. Inputs are sorted by length so
    /// each batch pads to a similar length, and the batches run longest first: later, shorter
    /// batches then fit in the memory the first one released (see the CPU backend's buffer pool).
    public func embed(ids: [[Int32]], batchSize: Int) throws -> [Float] {
        guard batchSize >= 1 else { throw QuiverError.invalidArgument("batch size must be ≥ 1, got \(batchSize)") }
        let dim = dimension
        var out = [Float](repeating: 0, count: ids.count * dim)
        let order = ids.indices.sorted { ids[$0].count > ids[$1].count || (ids[$0].count == ids[$1].count && $0 < $1) }
        var start = 0
        while start < order.count {
            let batch = Array(order[start..<min(start + batchSize, order.count)])
            let sequence = batch.map { ids[$0].count }.max() ?? 0
            var inputIds = [Int32](repeating: tokenizer.tokenizer.padId, count: batch.count * sequence)
            var mask = [Int32](repeating: 0, count: batch.count * sequence)
            for (row, index) in batch.enumerated() {
                for (t, id) in ids[index].enumerated() {
                    inputIds[row * sequence + t] = id
                    mask[row * sequence + t] = 1
                }
            }
            let rows = try model.embed(inputIds: inputIds, attentionMask: mask, batch: batch.count, sequence: sequence)
            for (row, index) in batch.enumerated() {
                out.replaceSubrange(index * dim..<(index + 1) * dim, with: rows[row * dim..<(row + 1) * dim])
            }
            start += batch.count
        }
        return out
    }
}
