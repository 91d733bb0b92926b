import Foundation
import Testing
import QuiverCore
import QuiverModels
import QuiverTestSupport

/// all-MiniLM-L6-v2 against sentence-transformers (fixture: scripts/fixtures/encoder_parity.py):
/// same token ids in, sentence embeddings out, cosine ≥ 0.99999 and |Δ| ≤ 2e-4 on every row, for
/// all 40 sentences (accents, CJK, emoji, punctuation, one input truncated at 256 tokens).
///
/// OpenCL runs the fixture as written: one 40 × 256 batch, padded to the longest (~12 s on PoCL).
/// The CPU backend's element-wise GELU is slow in debug builds, so it runs the sentences in
/// length-sorted batches (as `SentenceTransformer.encode` does) plus one heavily padded batch
/// (2 + 256 tokens) so padding is exercised there too.
@Suite(.serialized) struct MiniLMParityTests {
    static func batches(_ parity: ModelFixtures.Parity, backendName: String) -> [[Int]] {
        guard backendName == "cpu" else { return [Array(0..<parity.batch)] }
        let length = { (r: Int) in parity.attention_mask[(r * parity.sequence)..<((r + 1) * parity.sequence)].filter { $0 != 0 }.count }
        let sorted = (0..<parity.batch).sorted { length($0) < length($1) }
        guard let shortest = sorted.first, let longest = sorted.last else { return [] }
        var batches: [[Int]] = [[shortest, longest]], current: [Int] = []
        for r in sorted.dropFirst().dropLast() {
            if !current.isEmpty, (current.count + 1) * length(r) > 768 { batches.append(current); current = [] }
            current.append(r)
        }
        return batches + (current.isEmpty ? [] : [current])
    }

    @Test(arguments: TestBackends.names)
    func embeddingsMatchSentenceTransformers(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        let model = try SentenceTransformer.load(directory: ModelFixtures.miniLMDirectory(), backend: backend)
        #expect(model.config == SentenceTransformerConfig(pooling: .mean, normalize: true, maxSeqLength: 256))
        let parity = try ModelFixtures.parity()
        let batches = Self.batches(parity, backendName: backendName)
        #expect(Set(batches.joined()) == Set(0..<parity.batch), "every sentence is checked")
        var worstCosine = 1.0, worstAbs = 0.0
        for rows in batches {
            let input = parity.subset(rows)
            let start = Date()
            let got = try model.embed(inputIds: input.ids, attentionMask: input.mask, batch: rows.count, sequence: input.sequence)
            let seconds = Date().timeIntervalSince(start)
            let (cosine, maxAbs, row) = RowCompare.worst(got, input.expected, columns: parity.hidden)
            print("MiniLM parity [\(backendName)] \(rows.count)×\(input.sequence): worst cosine \(cosine), max |Δ| \(maxAbs), \(String(format: "%.2f", seconds)) s")
            #expect(cosine >= 0.99999, "worst cosine \(cosine) at sentence \(row >= 0 ? rows[row] : -1)")
            #expect(maxAbs <= 2e-4, "max |Δ| \(maxAbs) in batch \(rows)")
            worstCosine = min(worstCosine, cosine)
            worstAbs = max(worstAbs, maxAbs)
        }
        print("MiniLM parity [\(backendName)] all \(parity.batch) sentences: worst cosine \(worstCosine), max |Δ| \(worstAbs)")
    }

    @Test(arguments: TestBackends.names)
    func forwardReturnsHiddenStatesAndChecksIds(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        let encoder = try BertEncoder.load(directory: ModelFixtures.miniLMDirectory(), backend: backend)
        let hidden = try encoder.forward(inputIds: [101, 7592, 102, 0], attentionMask: [1, 1, 1, 0], batch: 1, sequence: 4)
        #expect(hidden.shape == [1, 4, 384])
        #expect(!Compare.hasNaN(try backend.values(hidden)))
        let bad = #expect(throws: QuiverError.self) {
            try encoder.forward(inputIds: [101, 30522], attentionMask: [1, 1], batch: 1, sequence: 2)
        }
        #expect(bad?.description.contains("30522") == true && bad?.description.contains("vocabulary") == true)
        #expect(throws: QuiverError.self) { try encoder.forward(inputIds: [101, -1], attentionMask: [1, 1], batch: 1, sequence: 2) }
        #expect(throws: QuiverError.self) { try encoder.forward(inputIds: [101], attentionMask: [1, 1], batch: 1, sequence: 2) }
        let long = [Int32](repeating: 100, count: 513)
        #expect(throws: QuiverError.self) { try encoder.forward(inputIds: long, attentionMask: long, batch: 1, sequence: 513) }
    }
}
