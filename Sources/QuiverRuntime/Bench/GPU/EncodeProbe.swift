import Foundation

/// The encode section: sentence-embedding throughput of a text model (all-MiniLM-L6-v2) on the
/// device at each batch size, through `TextEmbedder.embed(ids:batchSize:)` (padding, forward
/// pass, pooling, normalization, embeddings back on the host; tokenization excluded). Every
/// sentence has exactly `plan.encodeTokens` tokens, so each batch is a full
/// `[batch, tokens]` forward pass.
struct EncodeProbe {
    let device: any ComputeBackend
    let reference: any ComputeBackend
    let plan: GPUSuitePlan
    let model: String
    let log: (String) -> Void

    func run() throws -> EncodeSection {
        let embedder = try TextEmbedder(model: model, backend: device, maxLength: plan.encodeTokens)
        let sentences = try Self.sentences(count: plan.encodeBatches.max() ?? 1, tokens: plan.encodeTokens,
                                           tokenizer: embedder.tokenizer, seed: plan.seed)
        var runs: [EncodeRow] = []
        for batch in plan.encodeBatches {
            let ids = Array(sentences.prefix(batch))
            let times = try RepeatTimer.measure(plan.repeats) { _ = try embedder.embed(ids: ids, batchSize: batch) }
            let median = RepeatTimer.median(times)
            let row = EncodeRow(batch: batch, repeats: times.count, medianMs: median * 1e3, sentencesPerS: Double(batch) / median)
            runs.append(row)
            log(String(format: "[encode] batch %d × %d tokens: %.2f ms per batch, %.1f sentences/s", batch, plan.encodeTokens,
                       row.medianMs, row.sentencesPerS))
        }
        // Sanity check of the device's numbers: one small batch against the CPU backend.
        let check = Array(sentences.prefix(min(4, sentences.count)))
        let got = try embedder.embed(ids: check, batchSize: check.count)
        let want = try TextEmbedder(model: model, backend: reference, maxLength: plan.encodeTokens).embed(ids: check, batchSize: check.count)
        let difference = zip(got, want).reduce(0.0) { max($0, Double(abs($1.0 - $1.1))) }
        log(String(format: "[encode] max |device − cpu| over %d embeddings: %.2e", check.count, difference))
        return EncodeSection(model: URL(fileURLWithPath: embedder.tokenizer.modelDirectory).lastPathComponent,
                             tokens: plan.encodeTokens, runs: runs, maxAbsDifferenceVsCPU: difference)
    }

    /// `count` token sequences of exactly `tokens` ids: seeded runs of shopping words, truncated
    /// by the tokenizer to `tokens` ([CLS] … [SEP]).
    static func sentences(count: Int, tokens: Int, tokenizer: TextTokenizer, seed: UInt64) throws -> [[Int32]] {
        var random = BenchRandom(seed: seed ^ 0xE4C0DE)
        let words = Workload.queryVocabulary
        return try (0..<count).map { _ in
            var text = ""
            for _ in 0..<(2 * tokens) {
                text += words[Int(random.next() % UInt64(words.count))] + " "
            }
            let ids = tokenizer.encode(text)
            guard ids.count == tokens else {
                throw QuiverError.invalidArgument("encode benchmark: a generated sentence has \(ids.count) tokens, expected \(tokens)")
            }
            return ids
        }
    }
}
