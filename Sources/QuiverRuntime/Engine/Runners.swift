import QuiverCore
import QuiverModels
import QuiverScheduler
import QuiverScoring

/// What a text request gets back from `Engine` (one forward pass serves every kind).
public enum TextOutput: Sendable, Equatable {
    /// The sentence embedding: pooled, then normalized when the pipeline ends in Normalize.
    case embedding
    /// The pooled vector before the pipeline's Normalize module (TEI's `normalize: false`).
    case pooled
    /// The encoder's last hidden state of every token, `[CLS]` and `[SEP]` included:
    /// `ids.count × dimension` floats, token-major (TEI's `/embed_all`).
    case tokens
}

/// One text's token ids and the output it wants.
struct TextRequest: Sendable {
    var ids: [Int32]
    var output: TextOutput
}

/// Text → embedding (or pooled vector, or per-token states), one text per request; a batch is
/// one padded forward pass whatever each request wants.
/// Cost units are the padded token count (rounded up to a multiple of 8, as batches pad to the
/// longest row); buckets are length classes so short queries don't wait behind long documents.
/// `prepare` packs the next batch's ids and mask while the previous batch runs.
struct TextEmbedRunner: BatchRunner {
    typealias Request = TextRequest
    typealias Response = [Float]

    /// A batch packed for the encoder: `[rows, sequence]` ids and attention mask, and what each
    /// row wants back.
    struct Packed: Sendable {
        var ids: [Int32]
        var mask: [Int32]
        var rows: Int
        var sequence: Int
        var lengths: [Int]
        var outputs: [TextOutput]
    }

    let model: SentenceTransformer
    let padId: Int32
    let device: DeviceQueue

    func units(of request: TextRequest) -> Int { (request.ids.count + 7) / 8 * 8 }

    func bucket(of request: TextRequest) -> Int? {
        switch request.ids.count {
        case ...16: 0
        case ...32: 1
        case ...64: 2
        case ...128: 3
        default: 4
        }
    }

    func prepare(_ batch: [TextRequest]) async throws -> Packed {
        let sequence = batch.map(\.ids.count).max() ?? 1
        var packed = Packed(ids: [Int32](repeating: padId, count: batch.count * sequence),
                            mask: [Int32](repeating: 0, count: batch.count * sequence), rows: batch.count, sequence: sequence,
                            lengths: batch.map(\.ids.count), outputs: batch.map(\.output))
        for (row, request) in batch.enumerated() {
            for (t, id) in request.ids.enumerated() {
                packed.ids[row * sequence + t] = id
                packed.mask[row * sequence + t] = 1
            }
        }
        return packed
    }

    func run(_ batch: Packed) async throws -> [[Float]] {
        let model = model
        return try await device.run {
            let wanted = batch.outputs.reduce(into: SentenceTransformer.Outputs()) { $0.formUnion(Self.kind($1)) }
            let f = try model.forward(inputIds: batch.ids, attentionMask: batch.mask, batch: batch.rows, sequence: batch.sequence, outputs: wanted)
            let d = model.dimension
            return (0..<batch.rows).map { row in
                switch batch.outputs[row] {
                case .embedding: Array(f.embeddings![(row * d)..<((row + 1) * d)])
                case .pooled: Array(f.pooled![(row * d)..<((row + 1) * d)])
                case .tokens:
                    Array(f.tokens![(row * batch.sequence * d)..<((row * batch.sequence + batch.lengths[row]) * d)])
                }
            }
        }
    }

    private static func kind(_ output: TextOutput) -> SentenceTransformer.Outputs {
        switch output {
        case .embedding: .embeddings
        case .pooled: .pooled
        case .tokens: .tokens
        }
    }
}

/// Feature rows → MLP tower output, one row per request.
struct FeatureRunner: BatchRunner {
    typealias Request = [Float]
    typealias Response = [Float]

    let tower: MLPEncoder
    let device: DeviceQueue

    func run(_ batch: [[Float]]) async throws -> [[Float]] {
        let tower = tower
        return try await device.run {
            let flat = try tower.embed(features: batch.flatMap { $0 }, rows: batch.count)
            let d = tower.outputDimension
            return (0..<batch.count).map { Array(flat[($0 * d)..<(($0 + 1) * d)]) }
        }
    }
}

/// One query vector's search: its k and the catalog rows it must not get.
struct SearchRequest: Sendable {
    var vector: [Float]
    var k: Int
    var exclude: [Int32]
}

/// Query vectors → exact top-k against the engine's catalog; a batch is one scoring pass with
/// the batch's largest k, each answer cut to its own k.
struct SearchRunner: BatchRunner {
    typealias Request = SearchRequest
    typealias Response = [(row: Int, score: Float)]

    let scorer: Scorer
    let device: DeviceQueue

    func run(_ batch: [SearchRequest]) async throws -> [[(row: Int, score: Float)]] {
        let scorer = scorer
        return try await device.run {
            let d = scorer.catalog.dimension
            let queries = try Tensor(shape: [batch.count, d], floats: batch.flatMap(\.vector))
            let k = batch.map(\.k).max() ?? 1
            let exclusions = batch.contains { !$0.exclude.isEmpty } ? batch.map(\.exclude) : nil
            let result = try scorer.search(queries, k: k, exclusions: exclusions)
            return batch.indices.map { Array(result.results($0).prefix(batch[$0].k)) }
        }
    }
}
