import Foundation
import QuiverCore
import QuiverModels
import QuiverScheduler
import QuiverScoring

/// The in-process serving API: a text model and/or an MLP tower, and optionally a catalog, behind
/// dynamic batchers. Every call goes through a `DynamicBatcher`, so concurrent callers share
/// batches; backend work runs on one device queue, `concurrentBatches` batches at a time.
///
/// - `embed(_:)` texts → sentence embeddings (one batcher request per text, bucketed by length)
/// - `embed(tokenIds:output:)` pre-tokenized inputs (the OpenAI API's token-array input); the
///   sentence embedding, the pooled vector before Normalize, or every token's hidden state
/// - `tokenEmbeddings(tokenIds:)` every token's last hidden state, `[inputs][tokens][dim]`
/// - `embed(features:)` feature rows → MLP tower outputs
/// - `search(…)` exact top-k of a text or vector query against the catalog
/// - `recommend(history:…)` top-k for a user vector built from recently seen catalog items
public final class Engine: Sendable {
    public struct Configuration: Sendable {
        /// Text model: folder, ORG/NAME in the HF cache, or cache entry; nil for none.
        public var model: String?
        /// Tokens per text (default: the model's max_seq_length).
        public var maxLength: Int?
        /// MLP tower manifest (features → embedding); nil for none.
        public var tower: String?
        /// Catalog for search/recommend; nil for none.
        public var catalog: String?
        public var ids: String?
        public var metric: Metric = .cosine
        /// Scheduling policy and p99 latency target shared by every batcher.
        public var policy: BatchPolicy = .slo
        public var latencyTarget: Duration = .milliseconds(50)
        /// Padded tokens per text batch; rows per MLP or search batch.
        public var maxBatchTokens = 8192
        public var maxBatchRows = 256
        /// Requests allowed to wait per batcher before new ones are rejected as overloaded.
        public var queueCapacity = 1024
        /// Batches that may run at once on the backend (`BatcherConfiguration.deviceSlots`). More
        /// than 1 pays off on the CPU with a single-threaded backend per batch (`quiver serve
        /// --concurrent-batches`); the OpenCL backend runs one at a time.
        public var concurrentBatches = 1

        public init() {}
    }

    /// One search or recommendation result.
    public struct Hit: Sendable, Equatable {
        public var row: Int
        /// Item id from the ids file, else the row as text.
        public var id: String
        public var score: Float
    }

    /// An item a user interacted with.
    public struct HistoryItem: Sendable {
        /// Item id (with an ids file) or row number as text.
        public var item: String
        public var weight: Float
        /// When it happened; with `halfLife`, older items count less.
        public var time: Date?

        public init(item: String, weight: Float = 1, time: Date? = nil) {
            (self.item, self.weight, self.time) = (item, weight, time)
        }
    }

    public let configuration: Configuration
    public let backend: any ComputeBackend
    public let tokenizer: TextTokenizer?
    public let catalog: Catalog?
    /// Name of the text model (its folder name), for API responses.
    public let modelName: String?
    private let text: DynamicBatcher<TextEmbedRunner>?
    private let features: DynamicBatcher<FeatureRunner>?
    private let searcher: DynamicBatcher<SearchRunner>?
    private let textDimension: Int?
    private let idRows: [String: Int]

    public init(configuration: Configuration, backend: any ComputeBackend, clock: any SchedulerClock = ContinuousSchedulerClock()) throws {
        self.configuration = configuration
        self.backend = backend
        let device = DeviceQueue(slots: configuration.concurrentBatches)
        let batcher = { (maxCost: Int, model: RunTimeModel) in
            var c = BatcherConfiguration(policy: configuration.policy, latencyTarget: configuration.latencyTarget, maxBatchCost: maxCost,
                                         queueCapacity: configuration.queueCapacity, initialModel: model)
            c.slack = .milliseconds(2)
            c.deviceSlots = device.slots
            return c
        }
        if let spec = configuration.model {
            let tokenizer = try TextTokenizer(model: spec, maxLength: configuration.maxLength)
            let loaded = try SentenceTransformer.load(directory: tokenizer.modelDirectory, backend: backend)
            var config = loaded.config
            config.maxSeqLength = max(config.maxSeqLength, tokenizer.maxLength)
            let model = SentenceTransformer(encoder: loaded.encoder, config: config)
            let runner = TextEmbedRunner(model: model, padId: tokenizer.tokenizer.padId, device: device)
            let measured = try Self.warmUp(model, padId: tokenizer.tokenizer.padId)
            text = DynamicBatcher(runner: runner, configuration: batcher(configuration.maxBatchTokens, measured), clock: clock)
            self.tokenizer = tokenizer
            textDimension = model.dimension
            modelName = URL(fileURLWithPath: tokenizer.modelDirectory).lastPathComponent
        } else {
            (text, tokenizer, textDimension, modelName) = (nil, nil, nil, nil)
        }
        if let manifest = configuration.tower {
            let tower = try MLPEncoder.load(manifestPath: manifest, backend: backend)
            features = DynamicBatcher(runner: FeatureRunner(tower: tower, device: device),
                                      configuration: batcher(configuration.maxBatchRows, RunTimeModel(fixed: .microseconds(200), perUnit: .microseconds(5))),
                                      clock: clock)
        } else {
            features = nil
        }
        if let path = configuration.catalog {
            let catalog = try Catalog(path: path)
            if let ids = configuration.ids { try catalog.loadIds(path: ids) }
            let scorer = try Scorer(backend: backend, catalog: catalog, metric: configuration.metric,
                                    threads: max(1, ProcessInfo.processInfo.activeProcessorCount / device.slots))
            // A guess scaled by catalog size; the batcher learns the real cost from the first batches.
            let perQuery = Duration.nanoseconds(Int64(max(1, catalog.rows * catalog.dimension / 100)))
            searcher = DynamicBatcher(runner: SearchRunner(scorer: scorer, device: device),
                                      configuration: batcher(configuration.maxBatchRows, RunTimeModel(fixed: perQuery * 4, perUnit: perQuery)),
                                      clock: clock)
            self.catalog = catalog
            idRows = Dictionary(catalog.ids?.enumerated().map { ($1, $0) } ?? [], uniquingKeysWith: { a, _ in a })
        } else {
            (searcher, self.catalog, idRows) = (nil, nil, [:])
        }
    }

    /// Width of `embed(_:)` vectors, when a text model is loaded.
    public var dimension: Int? { textDimension }

    // MARK: embeddings

    /// Sentence embeddings of `texts`, in order. `timeout` bounds each text's wait + run.
    public func embed(_ texts: [String], timeout: Duration? = nil) async throws -> [[Float]] {
        let tokenizer = try require(tokenizer, "a text model (--model)")
        return try await embed(tokenIds: texts.map(tokenizer.encode), timeout: timeout)
    }

    /// Embeddings of pre-tokenized inputs ([CLS] … [SEP] included, at most the max length).
    public func embed(tokenIds: [[Int32]], timeout: Duration? = nil) async throws -> [[Float]] {
        try await embed(tokenIds: tokenIds, output: .embedding, timeout: timeout)
    }

    /// `output` of each pre-tokenized input, in order: a `dimension`-wide row for `.embedding`
    /// and `.pooled`, `ids.count × dimension` floats for `.tokens`. Inputs wanting different
    /// outputs still share batches (one forward pass).
    public func embed(tokenIds: [[Int32]], output: TextOutput, timeout: Duration? = nil) async throws -> [[Float]] {
        let text = try require(text, "a text model (--model)")
        if let tokenizer, let long = tokenIds.first(where: { $0.count > tokenizer.maxLength || $0.isEmpty }) {
            throw QuiverError.invalidArgument("a token-id input has \(long.count) tokens; inputs need 1 ... \(tokenizer.maxLength)")
        }
        return try await Self.all(tokenIds) { ids in try await Self.submit(text, TextRequest(ids: ids, output: output), timeout) }
    }

    /// The last hidden state of every token of each input (`[CLS]` and `[SEP]` included):
    /// `[inputs][tokens][dimension]`, as TEI's `/embed_all` and sentence-transformers'
    /// `output_value="token_embeddings"` give them. Runs through the same batcher as `embed`.
    public func tokenEmbeddings(tokenIds: [[Int32]], timeout: Duration? = nil) async throws -> [[[Float]]] {
        let d = try require(textDimension, "a text model (--model)")
        let flat = try await embed(tokenIds: tokenIds, output: .tokens, timeout: timeout)
        return flat.map { row in stride(from: 0, to: row.count, by: d).map { Array(row[$0..<($0 + d)]) } }
    }

    /// Token counts of `texts` as the model sees them (after truncation), e.g. for API usage.
    public func tokenCounts(_ texts: [String]) throws -> [Int] {
        let tokenizer = try require(tokenizer, "a text model (--model)")
        return texts.map { tokenizer.encode($0).count }
    }

    /// MLP tower outputs of feature rows, in order.
    public func embed(features rows: [[Float]], timeout: Duration? = nil) async throws -> [[Float]] {
        let features = try require(features, "an MLP tower (--tower)")
        return try await Self.all(rows) { row in try await Self.submit(features, row, timeout) }
    }

    // MARK: search

    /// Exact top-k of a query vector against the catalog, leaving out `exclude` (ids or rows).
    public func search(vector: [Float], k: Int, exclude: [String] = [], timeout: Duration? = nil) async throws -> [Hit] {
        let searcher = try require(searcher, "a catalog (--catalog)")
        let catalog = catalog!
        guard vector.count == catalog.dimension else {
            throw QuiverError.invalidArgument("the query has \(vector.count) values but the catalog has \(catalog.dimension) dims")
        }
        _ = try Scorer.effectiveK(k, items: catalog.rows)
        let request = SearchRequest(vector: vector, k: k, exclude: exclude.compactMap(row(of:)).map(Int32.init))
        let found = try await Self.submit(searcher, request, timeout)
        return found.map { Hit(row: $0.row, id: catalog.name(of: $0.row), score: $0.score) }
    }

    /// Exact top-k of a text query: embedded, then searched.
    public func search(text: String, k: Int, exclude: [String] = [], timeout: Duration? = nil) async throws -> [Hit] {
        let vector = try await embed([text], timeout: timeout)[0]
        return try await search(vector: vector, k: k, exclude: exclude, timeout: timeout)
    }

    /// Recommendations from a user's history: the user vector is the weighted mean of the history
    /// items' catalog vectors, each weight multiplied by 2^(−age / halfLife) when `halfLife` is
    /// given (age from `now`), passed through the MLP tower when one is loaded; history items
    /// are excluded from the results.
    public func recommend(history: [HistoryItem], k: Int, halfLife: TimeInterval? = nil, now: Date = Date(),
                          timeout: Duration? = nil) async throws -> [Hit] {
        let catalog = try require(catalog, "a catalog (--catalog)")
        guard !history.isEmpty else { throw QuiverError.invalidArgument("recommend needs at least one history item") }
        var user = [Float](repeating: 0, count: catalog.dimension)
        var total: Float = 0
        for item in history {
            guard let row = row(of: item.item) else {
                throw QuiverError.invalidArgument("history item \"\(item.item)\" is not in the catalog")
            }
            var w = item.weight
            if let halfLife, let time = item.time, halfLife > 0 { w *= Float(pow(2, -max(0, now.timeIntervalSince(time)) / halfLife)) }
            let vector = catalog.tile(row..<(row + 1)).floats()
            let scale = catalog.scales?[row] ?? 1
            for j in 0..<catalog.dimension { user[j] += w * scale * vector[j] }
            total += w
        }
        guard total > 0 else { throw QuiverError.invalidArgument("the history's weights sum to \(total); they must be positive") }
        user = user.map { $0 / total }
        if features != nil { user = try await embed(features: [user], timeout: timeout)[0] }
        return try await search(vector: user, k: k, exclude: history.map(\.item), timeout: timeout)
    }

    // MARK: introspection

    /// Scheduler counters per workload ("text", "features", "search") that exist.
    public func stats() async -> [String: SchedulerStats] {
        var out: [String: SchedulerStats] = [:]
        if let text { out["text"] = await text.stats }
        if let features { out["features"] = await features.stats }
        if let searcher { out["search"] = await searcher.stats }
        return out
    }

    /// Every batcher stops waiting for fuller batches and runs what is queued as soon as it can
    /// (see `DynamicBatcher.drain`); call when shutdown begins, before `shutdown()`.
    public func drain() async {
        await text?.drain()
        await features?.drain()
        await searcher?.drain()
    }

    /// Stops every batcher: queued requests fail with `SchedulerError.shutDown`.
    public func shutdown() async {
        await text?.shutdown()
        await features?.shutdown()
        await searcher?.shutdown()
    }

    // MARK: helpers

    /// Catalog row of an item id, or of a row number given as text.
    public func row(of item: String) -> Int? {
        if let row = idRows[item] { return row }
        if catalog?.ids == nil, let row = Int(item), let catalog, row >= 0, row < catalog.rows { return row }
        return nil
    }

    private func require<T>(_ value: T?, _ what: String) throws -> T {
        guard let value else { throw QuiverError.invalidArgument("this engine has no \(what); start it with one") }
        return value
    }

    private static func submit<R: BatchRunner>(_ batcher: DynamicBatcher<R>, _ request: R.Request, _ timeout: Duration?) async throws -> R.Response {
        if let timeout { return try await batcher.submit(request, timeout: timeout) }
        return try await batcher.submit(request)
    }

    /// Runs `body` on every element concurrently (so they can share batches), results in order.
    private static func all<T: Sendable, U: Sendable>(_ items: [T], _ body: @escaping @Sendable (T) async throws -> U) async throws -> [U] {
        if items.count == 1 { return [try await body(items[0])] }
        return try await withThrowingTaskGroup(of: (Int, U).self) { group in
            for (i, item) in items.enumerated() { group.addTask { (i, try await body(item)) } }
            var out = [U?](repeating: nil, count: items.count)
            for try await (i, value) in group { out[i] = value }
            return out.map { $0! }
        }
    }

    /// A first guess of the text run time (the batcher keeps learning): a least-squares line of
    /// run time against padded tokens over timed batches at the shapes serving sees most, short
    /// queries 1–32 rows, plus one of longer texts. The line also anchors the predictor's slope
    /// while the batches it observes are all about one size.
    private static func warmUp(_ model: SentenceTransformer, padId: Int32) throws -> RunTimeModel {
        func time(_ rows: Int, _ length: Int) throws -> Double {
            let ids = [Int32](repeating: 101, count: rows * length), mask = [Int32](repeating: 1, count: rows * length)
            let start = ContinuousClock.now
            _ = try model.embed(inputIds: ids, attentionMask: mask, batch: rows, sequence: length)
            let d = ContinuousClock.now - start
            return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        _ = try time(1, 8)
        let shapes = [(1, 8), (4, 8), (16, 8), (32, 8), (8, 16), (32, 16), (8, 64)]
        let points = try shapes.map { (Double($0.0 * $0.1), try time($0.0, $0.1)) }
        let n = Double(points.count)
        let meanCost = points.map(\.0).reduce(0, +) / n, meanTime = points.map(\.1).reduce(0, +) / n
        let spread = points.map { ($0.0 - meanCost) * ($0.0 - meanCost) }.reduce(0, +)
        let covariance = points.map { ($0.0 - meanCost) * ($0.1 - meanTime) }.reduce(0, +)
        let perUnit = max(covariance / spread, 1e-7)
        let fixed = max(meanTime - perUnit * meanCost, 1e-5)
        return RunTimeModel(fixed: .nanoseconds(Int64(fixed * 1e9)), perUnit: .nanoseconds(Int64(perUnit * 1e9)))
    }
}
