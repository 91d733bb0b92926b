import QuiverCore
import QuiverModels
import QuiverScheduler
import QuiverScoring

/// Text → embedding, one text per request; a batch is one padded forward pass.
/// Cost units are the padded token count (rounded up to a multiple of 8, as batches pad to the
/// longest row); buckets are length classes so short queries don't wait behind long documents.
/// `prepare` packs the next batch's ids and mask while the previous batch runs.
struct TextEmbedRunner: BatchRunner {
    typealias Request = [Int32]
    typealias Response = [Float]

    /// A batch packed for the encoder: `[rows, sequence]` ids and attention mask.
    struct Packed: Sendable {
        var ids: [Int32]
        var mask: [Int32]
        var rows: Int
        var sequence: Int
    }

    let model: SentenceTransformer
    let padId: Int32
    let device: DeviceQueue

    func units(of request: [Int32]) -> Int { (request.count + 7) / 8 * 8 }

    func bucket(of request: [Int32]) -> Int? {
        switch request.count {
        case ...16: 0
        case ...32: 1
        case ...64: 2
        case ...128: 3
        default: 4
        }
    }

    func prepare(_ batch: [[Int32]]) async throws -> Packed {
        let sequence = batch.map(\.count).max() ?? 1
        var packed = Packed(ids: [Int32](repeating: padId, count: batch.count * sequence),
                            mask: [Int32](repeating: 0, count: batch.count * sequence), rows: batch.count, sequence: sequence)
        for (row, tokens) in batch.enumerated() {
            for (t, id) in tokens.enumerated() {
                packed.ids[row * sequence + t] = id
                packed.mask[row * sequence + t] = 1
            }
        }
        return packed
    }

    func run(_ batch: Packed) async throws -> [[Float]] {
        let model = model
        return try await device.run {
            let flat = try model.embed(inputIds: batch.ids, attentionMask: batch.mask, batch: batch.rows, sequence: batch.sequence)
            let d = model.dimension
            return (0..<batch.rows).map { Array(flat[($0 * d)..<(($0 + 1) * d)]) }
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
