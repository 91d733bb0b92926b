import Foundation
import Testing
import QuiverCore
import QuiverModels
import QuiverTestSupport

/// all-MiniLM-L6-v2 against sentence-transformers (fixture: scripts/fixtures/encoder_parity.py):
/// same token ids in, sentence embeddings out, cosine ≥ 0.99999 and |Δ| ≤ 2e-4 on every row.
/// The CPU backend runs all 40 sentences (including one truncated at 256 tokens); OpenCL on PoCL
/// runs a subset that still includes accents, CJK, emoji, a 143-token and the 256-token input.
@Suite(.serialized) struct MiniLMParityTests {
    static let openCLRows = [0, 12, 13, 15, 18, 20, 37, 38]

    @Test(arguments: TestBackends.names)
    func embeddingsMatchSentenceTransformers(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        let model = try SentenceTransformer.load(directory: ModelFixtures.miniLMDirectory(), backend: backend)
        #expect(model.config == SentenceTransformerConfig(pooling: .mean, normalize: true, maxSeqLength: 256))
        let parity = try ModelFixtures.parity()
        let rows = backendName == "cpu" ? Array(0..<parity.batch) : Self.openCLRows
        let input = parity.subset(rows)
        let start = Date()
        let got = try model.embed(inputIds: input.ids, attentionMask: input.mask, batch: rows.count, sequence: input.sequence)
        let seconds = Date().timeIntervalSince(start)
        let (cosine, maxAbs, row) = RowCompare.worst(got, input.expected, columns: parity.hidden)
        print("MiniLM parity [\(backendName)] \(rows.count)×\(input.sequence): worst cosine \(cosine) (row \(row)), max |Δ| \(maxAbs), \(String(format: "%.2f", seconds)) s")
        #expect(cosine >= 0.99999, "worst cosine \(cosine) at row \(row)")
        #expect(maxAbs <= 2e-4, "max |Δ| \(maxAbs)")
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
