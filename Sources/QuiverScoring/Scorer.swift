import QuiverCore

/// Exact top-k of queries against a catalog on any backend: similarity tiles streamed through
/// `ComputeBackend.similarityTopK`, so the full queries × items score matrix never exists.
///
/// Catalog placement: a backend that computes in host memory (CPU) scores the memory-mapped
/// catalog in place; a device backend keeps the catalog resident when it fits in half of the
/// device's memory, and otherwise streams it through in tiles for every query block.
public final class Scorer: @unchecked Sendable {
    public let backend: ComputeBackend
    public let catalog: Catalog
    public let metric: Metric

    /// Catalog rows per streamed tile when the catalog does not stay resident.
    public let tileRows: Int
    public let threads: Int
    private let shortlist: Int?
    private let rescorer: Rescorer?
    /// f32 scorer over the rescoring catalog, made on first need (uncertified queries).
    private var fallback: Scorer?
    /// Counters since this scorer was made.
    public private(set) var stats = Stats()

    public struct Stats: Sendable {
        /// Queries answered through a reduced catalog's shortlist + rescoring.
        public var rescored = 0
        /// Of those, queries whose certificate failed and were scored exactly in full.
        public var fallbacks = 0
    }
    private let itemScale: DeviceTensor?
    private let itemBias: DeviceTensor?
    /// The whole catalog as one backend tensor (a view on CPU, uploaded once on a device), or nil
    /// when it is streamed.
    private let resident: DeviceTensor?

    /// Where the catalog lives while scoring.
    public enum Placement: Sendable, Equatable {
        /// In place on CPU; resident on a device when it fits in half its memory, else streamed.
        case automatic
        /// Streamed through in tiles of `tileRows` rows for every query block (for tests and
        /// for sharing a device with other work).
        case streamed(tileRows: Int)
    }

    /// Reads the catalog once (finite check, norms) and places it on the backend.
    /// - threads: cores for the catalog scan and rescoring.
    /// - rescore: for a reduced-precision catalog, the f32 catalog it was converted from: results
    ///   are then exact (shortlist on the reduced catalog, f32 rescoring, certificate, fallback;
    ///   see `Rescorer`). Without it a reduced catalog gives the scores of its stored values.
    /// - shortlist: approximate candidates per query before rescoring (default: 8k for int8, 2k
    ///   for f16, at least k + 64, at most `TopKLists.maxK`).
    public init(backend: ComputeBackend, catalog: Catalog, metric: Metric, threads: Int,
                placement: Placement = .automatic, rescore original: Catalog? = nil, shortlist: Int? = nil) throws {
        self.backend = backend
        self.catalog = catalog
        self.metric = metric
        self.threads = threads
        self.shortlist = shortlist
        let all = catalog.tile(0..<catalog.rows)
        var squaredNorms: [Float]
        if let norms = catalog.originalNorms {
            // Written by `CatalogConversion`, which checked every value: no second pass needed.
            squaredNorms = norms.map { $0 * $0 }
        } else {
            let scan = RowScan.scan(all, scales: catalog.scales, threads: threads)
            if let row = scan.firstNonFinite {
                throw QuiverError.io(path: catalog.path, detail: "row \(row)\(catalog.ids.map { " (id \($0[row]))" } ?? "") contains NaN or infinity; fix or drop that item")
            }
            squaredNorms = scan.squaredNorms
        }
        if let original {
            guard catalog.dtype != .f32 else {
                throw QuiverError.invalidArgument("--rescore is for reduced-precision catalogs; \(catalog.path) is already float32")
            }
            guard original.dtype == .f32, original.rows == catalog.rows, original.dimension == catalog.dimension else {
                throw QuiverError.io(path: original.path, detail: "the rescoring catalog must be the float32 original of \(catalog.path) (\(catalog.rows) × \(catalog.dimension)); it is \(original.dtype) \(original.rows) × \(original.dimension)")
            }
            guard let norms = catalog.originalNorms, let errors = catalog.quantizationError else {
                throw QuiverError.io(path: catalog.path, detail: "no 'norm'/'error' tensors to bound the approximation; make it with `quiver catalog convert`")
            }
            rescorer = Rescorer(original: original, metric: metric, norms: norms, storageError: errors,
                                arithmetic: backend.approximateScoreError(dimension: catalog.dimension))
        } else {
            rescorer = nil
        }
        let terms = metric.itemTerms(squaredNorms: squaredNorms, quantScales: catalog.scales)
        itemScale = try terms.scale.map { try backend.tensor(Tensor(shape: [catalog.rows], floats: $0)) }
        itemBias = try terms.bias.map { try backend.tensor(Tensor(shape: [catalog.rows], floats: $0)) }

        let bytes = UInt64(catalog.rows * catalog.rowBytes)
        let tileBytes = min(backend.device.maxAllocationBytes, 256 << 20)
        switch placement {
        case .streamed(let rows):
            resident = nil
            tileRows = max(1, min(catalog.rows, rows))
        case .automatic:
            if let view = backend.view(all) {
                resident = view
            } else if bytes <= backend.device.globalMemoryBytes / 2 {
                resident = try backend.tensor(all)
            } else {
                resident = nil
            }
            tileRows = max(1, min(catalog.rows, Int(tileBytes) / catalog.rowBytes))
        }
        placementDescription = resident == nil ? "streamed in tiles of \(tileRows) rows"
            : backend.view(catalog.tile(0..<1)) != nil ? "mapped in place" : "resident on the device"
    }

    /// Whether the catalog stays on the backend across query blocks.
    public var isResident: Bool { resident != nil }

    /// How the catalog is placed, for reports: "mapped in place", "resident on the device" or
    /// "streamed in tiles of N rows".
    public private(set) var placementDescription = ""

    /// The exact top-k of every query.
    /// - queries: `[Q, dimension]` f32 (rows `firstQuery...` of the caller's query set, for errors).
    /// - k: results per query; clamped to the catalog size, then at most `TopKLists.maxK`.
    /// - exclusions: catalog rows per query (`[Q]` lists) never to return, or nil.
    /// Scores as the user sees them: dot, cosine, or squared L2 distance (smallest first).
    public func search(_ queries: Tensor, k: Int, exclusions: [[Int32]]? = nil, firstQuery: Int = 0) throws -> TopKResult {
        guard queries.dtype == .f32, queries.shape.rank == 2, queries.shape[1] == catalog.dimension else {
            throw QuiverError.invalidArgument(
                "queries are \(queries.shape) \(queries.dtype) but the catalog \(catalog.path) has \(catalog.dimension) dims; queries must be f32 [Q, \(catalog.dimension)]")
        }
        let kk = try Scorer.effectiveK(k, items: catalog.rows)
        let (prepared, squaredNorms) = try prepare(queries, firstQuery: firstQuery)
        var result: TopKResult
        if let rescorer {
            let m = min(catalog.rows, TopKLists.maxK, max(kk, shortlist ?? max(kk + 64, (catalog.dtype == .i8 ? 8 : 2) * kk)))
            let approx = try ranked(prepared, k: m, exclusions: exclusions, approximate: true)
            let exact = rescorer.rescore(approx, queries: prepared, squaredNorms: squaredNorms, k: kk, threads: threads)
            var (rows, scores) = (exact.rows, exact.scores)
            if !exact.uncertified.isEmpty {
                let full = try exactFallback(queries, exact.uncertified, k: kk, exclusions: exclusions, firstQuery: firstQuery)
                for (n, i) in exact.uncertified.enumerated() {
                    rows.replaceSubrange((i * kk)..<((i + 1) * kk), with: full.rows[(n * kk)..<((n + 1) * kk)])
                    scores.replaceSubrange((i * kk)..<((i + 1) * kk), with: full.scores[(n * kk)..<((n + 1) * kk)])
                }
            }
            stats.rescored += approx.queries
            stats.fallbacks += exact.uncertified.count
            result = TopKResult(k: kk, rows: rows, scores: scores)
        } else {
            result = try ranked(prepared, k: kk, exclusions: exclusions)
        }
        return metric == .l2 ? result.reportingL2(squaredNorms) : result
    }

    /// Top-k with ranking scores (before the L2 transform) of prepared queries; `approximate`
    /// lets the backend compute scores in reduced precision (a shortlist for rescoring).
    private func ranked(_ prepared: Tensor, k: Int, exclusions: [[Int32]]?, approximate: Bool = false) throws -> TopKResult {
        let top = try TopKLists.empty(queries: prepared.shape[0], k: k, on: backend)
        guard prepared.shape[0] > 0 else { return TopKResult(k: k, rows: [], scores: []) }
        let queriesT = try backend.tensor(prepared)
        let excluded = try exclusions.map { try RowExclusions.make($0, on: backend) }
        if let resident {
            try topK(queriesT, resident, itemScale, itemBias, 0, excluded, top, approximate)
        } else {
            try streamTiles(queriesT, excluded, top, approximate)
        }
        return TopKResult(k: k, rows: try backend.download(top.rows).int32s(), scores: try backend.download(top.scores).floats())
    }

    /// Exact f32 results (ranking scores) for the queries at `indices`, from the original catalog.
    private func exactFallback(_ queries: Tensor, _ indices: [Int], k: Int, exclusions: [[Int32]]?, firstQuery: Int) throws -> TopKResult {
        let original = rescorer!.original
        if fallback == nil { fallback = try Scorer(backend: backend, catalog: original, metric: metric, threads: threads) }
        let d = catalog.dimension
        let subset = Tensor(zeros: [indices.count, d], .f32)
        for (n, i) in indices.enumerated() {
            (subset.storage.pointer + n * d * 4).copyMemory(from: queries.storage.pointer + i * d * 4, byteCount: d * 4)
        }
        let (prepared, _) = try prepare(subset, firstQuery: firstQuery)
        return try fallback!.ranked(prepared, k: k, exclusions: exclusions.map { ex in indices.map { ex[$0] } })
    }

    /// k clamped to the catalog size; throws when it is out of the supported range.
    public static func effectiveK(_ k: Int, items: Int) throws -> Int {
        let kk = min(k, items)
        guard k >= 1, kk <= TopKLists.maxK else {
            throw QuiverError.invalidArgument("k = \(k) is out of range: Quiver returns 1 ... \(TopKLists.maxK) results per query")
        }
        return kk
    }

    /// Validated queries (normalized for cosine) and their squared norms.
    private func prepare(_ queries: Tensor, firstQuery: Int) throws -> (Tensor, [Float]) {
        let (q, d) = (queries.shape[0], queries.shape[1])
        let src = queries.storage.pointer.assumingMemoryBound(to: Float.self)
        let out = Tensor(zeros: queries.shape, .f32)
        let dst = out.storage.pointer.assumingMemoryBound(to: Float.self)
        var norms = [Float](repeating: 0, count: q)
        for i in 0..<q {
            var s: Float = 0
            for j in 0..<d { s += src[i * d + j] * src[i * d + j] }
            guard s.isFinite, (0..<d).allSatisfy({ src[i * d + $0].isFinite }) else {
                throw QuiverError.invalidArgument("query \(firstQuery + i) contains NaN or infinity (or its norm overflows float32)")
            }
            norms[i] = s
            let f: Float = metric == .cosine && s > 0 ? 1 / s.squareRoot() : 1
            for j in 0..<d { dst[i * d + j] = src[i * d + j] * f }
        }
        return (out, norms)
    }

    private func topK(_ queries: DeviceTensor, _ tile: DeviceTensor, _ scale: DeviceTensor?, _ bias: DeviceTensor?, _ firstRow: Int,
                      _ excluded: RowExclusions?, _ top: TopKLists, _ approximate: Bool) throws {
        if approximate {
            try backend.approximateSimilarityTopK(queries: queries, tile: tile, rowScale: scale, rowBias: bias,
                                                  firstRow: firstRow, exclusions: excluded, top: top)
        } else {
            try backend.similarityTopK(queries: queries, tile: tile, rowScale: scale, rowBias: bias,
                                       firstRow: firstRow, exclusions: excluded, top: top)
        }
    }

    private func streamTiles(_ queries: DeviceTensor, _ excluded: RowExclusions?, _ top: TopKLists, _ approximate: Bool) throws {
        let scaleHost = try itemScale.map { try backend.download($0).floats() }
        let biasHost = try itemBias.map { try backend.download($0).floats() }
        for start in stride(from: 0, to: catalog.rows, by: tileRows) {
            let range = start..<min(start + tileRows, catalog.rows)
            let tile = try backend.tensor(catalog.tile(range))
            let scale = try scaleHost.map { try backend.tensor(Tensor(shape: [range.count], floats: Array($0[range]))) }
            let bias = try biasHost.map { try backend.tensor(Tensor(shape: [range.count], floats: Array($0[range]))) }
            try topK(queries, tile, scale, bias, start, excluded, top, approximate)
        }
    }
}

/// Top-k lists of a query block: `[Q, k]` rows and scores, best first; row −1 marks an empty slot
/// (fewer than k items could be returned).
public struct TopKResult: Sendable {
    public let k: Int
    public let rows: [Int32]
    public let scores: [Float]

    public var queries: Int { k == 0 ? 0 : rows.count / k }

    /// The same lists with ranking scores s turned into squared L2 distances ‖q‖² − s (≥ 0).
    func reportingL2(_ querySquaredNorms: [Float]) -> TopKResult {
        var scores = self.scores
        for i in 0..<queries {
            for j in 0..<k where rows[i * k + j] >= 0 {
                scores[i * k + j] = Metric.l2.reported(scores[i * k + j], querySquaredNorm: querySquaredNorms[i])
            }
        }
        return TopKResult(k: k, rows: rows, scores: scores)
    }

    /// Query `i`'s results, best first, without empty slots.
    public func results(_ i: Int) -> [(row: Int, score: Float)] {
        (0..<k).compactMap { j in rows[i * k + j] >= 0 ? (Int(rows[i * k + j]), scores[i * k + j]) : nil }
    }
}
