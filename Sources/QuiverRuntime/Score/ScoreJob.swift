import Foundation
import QuiverCore
import QuiverScoring

/// `quiver score` as a library: every query of a query set (or of one shard of it) against a
/// catalog, exact top-k, written as JSONL in query order through a `ResumableOutput`.
///
/// Output line per query: `{"query": <index or id>, "items": [<row or id>, ...], "scores": [...]}`,
/// best first (tie rule: higher score, then lower row). With an `.npy` output name `X.npy` the job
/// writes two arrays instead, `X.items.npy` (int32 catalog rows `[queries, k]`, −1 = no item) and
/// `X.scores.npy` (float32 `[queries, k]`). A finished output gets a manifest
/// `<output>.manifest.json` that `ScoreMerge` uses to combine shards.
public final class ScoreJob {
    public struct Spec: Sendable {
        public enum Queries: Sendable {
            /// Query vectors, `.npy` f32/f16 `[Q, dim]`.
            case vectors(path: String)
            /// Query texts embedded with `model` (one per line, or JSONL `{"text"}`).
            case texts(path: String, format: TextInput.Format, model: String, maxLength: Int?)
        }

        public var catalog: String
        public var ids: String?
        /// The float32 original of a reduced catalog, for exact rescoring.
        public var rescore: String?
        /// Shortlist size for rescoring (nil: the scorer's default).
        public var shortlist: Int?
        public var queries: Queries
        public var queryIds: String?
        public var k: Int
        public var metric: Metric
        public var exclude: String?
        public var output: String
        public var shard = Shard.whole
        /// Queries scored per step (and per checkpoint at most).
        public var blockSize = 2048
        public var overwrite = false
        /// Discard an existing checkpoint instead of resuming from it.
        public var restart = false
        /// Minimum seconds between checkpoints.
        public var checkpointInterval = 3.0

        public init(catalog: String, queries: Queries, k: Int, metric: Metric, output: String) {
            (self.catalog, self.queries, self.k, self.metric, self.output) = (catalog, queries, k, metric, output)
        }
    }

    /// What the job did, for the summary line.
    public struct Summary: Sendable {
        public var queries: Int
        public var items: Int
        public var k: Int
        public var resumedAt: Int
        public var seconds: Double
        public var loadSeconds: Double
        public var unknownExcludedItems: Int
        /// `Scorer.placementDescription`.
        public var catalogPlacement: String
        /// Reduced catalogs with rescoring: the scorer's counters.
        public var rescored: Scorer.Stats?
        /// Largest anonymous resident memory seen between blocks (heap; the mapped catalog is not
        /// counted), when the platform reports it.
        public var peakHeapBytes: UInt64?
        /// Peak resident memory of the process, mapped catalog pages included.
        public var peakResidentBytes: UInt64?
    }

    public let spec: Spec
    public let backend: ComputeBackend
    public let catalog: Catalog
    public let scorer: Scorer
    public let source: QuerySource
    public let queryIds: [String]?
    /// Queries of this shard.
    public let range: Range<Int>
    /// Digest of the arguments and inputs, shard excluded: every shard of one job shares it.
    public let jobDigest: Fingerprint
    /// `jobDigest` plus the shard: what a checkpoint must match to be resumed.
    public let fingerprint: Fingerprint
    private let exclusions: ExclusionFile?
    private let loadSeconds: Double

    public init(spec: Spec, backend: ComputeBackend, threads: Int) throws {
        let start = Date()
        self.spec = spec
        self.backend = backend
        guard spec.output.hasSuffix(".jsonl") || spec.output.hasSuffix(".npy") else {
            throw QuiverError.invalidArgument("--output must end in .jsonl (one line per query) or .npy (X.items.npy + X.scores.npy arrays)")
        }
        guard spec.blockSize >= 1 else { throw QuiverError.invalidArgument("--batch-size must be at least 1") }
        catalog = try Catalog(path: spec.catalog)
        if let ids = spec.ids { try catalog.loadIds(path: ids) }
        _ = try Scorer.effectiveK(spec.k, items: catalog.rows)

        var digest = Fingerprint()
        // Not the backend or machine: a job may resume, or its shards run, elsewhere (results are
        // then still exact, but only the same hardware and thread count gives identical bytes).
        digest.add("quiver-score/1|k=\(spec.k)|metric=\(spec.metric.rawValue)|block=\(spec.blockSize)")
        try digest.addFile(spec.catalog)
        for path in [spec.ids, spec.queryIds, spec.exclude, spec.rescore].compactMap({ $0 }) { try digest.addFile(path) }
        switch spec.queries {
        case .vectors(let path):
            try digest.addFile(path)
            source = try NpyQueries(path: path)
        case let .texts(path, format, model, maxLength):
            try digest.addFile(path)
            let embedder = try TextEmbedder(model: model, backend: backend, maxLength: maxLength)
            for name in ["config.json", "model.safetensors"] {
                try digest.addFile((embedder.tokenizer.modelDirectory as NSString).appendingPathComponent(name))
            }
            digest.add("format=\(format.rawValue)|maxLength=\(embedder.tokenizer.maxLength)")
            source = try TextQueries(path: path, format: format, embedder: embedder, batchSize: 32)
        }
        if let path = spec.queryIds {
            let ids = try Self.lines(path)
            guard ids.count == source.count else {
                throw QuiverError.io(path: path, detail: "\(ids.count) query ids for \(source.count) queries; one id per query, in order")
            }
            queryIds = ids
        } else {
            queryIds = nil
        }
        range = spec.shard.slice(source.count, block: spec.blockSize)
        jobDigest = digest
        digest.add("shard=\(spec.shard)")
        fingerprint = digest
        let (catalog, queryIds, queryCount) = (catalog, queryIds, source.count)
        exclusions = try spec.exclude.map { try ExclusionFile(path: $0, catalog: catalog, queryIds: queryIds, queryCount: queryCount) }
        scorer = try Scorer(backend: backend, catalog: catalog, metric: spec.metric, threads: threads,
                            rescore: try spec.rescore.map { try Catalog(path: $0) }, shortlist: spec.shortlist)
        loadSeconds = Date().timeIntervalSince(start)
    }

    /// Scores the shard's queries, resuming from a checkpoint when there is one.
    /// `progress(done, total)` is called after each block with counts within the shard; an error
    /// it throws stops the job like a crash would (the checkpoint stays for a resume).
    public func run(progress: (Int, Int) throws -> Void = { _, _ in }) throws -> Summary {
        let npy = spec.output.hasSuffix(".npy")
        let output = try ResumableOutput(paths: npy ? ScoreJob.npyPaths(spec.output) : [spec.output],
                                         fingerprint: fingerprint.description, overwrite: spec.overwrite, restart: spec.restart)
        let resumedAt = output.resumedAt
        let k = min(spec.k, catalog.rows)
        if npy, output.size(of: 0) == 0 {
            try output.append(Npy.header(shape: [range.count, k], descr: "<i4"), to: 0)
            try output.append(Npy.header(shape: [range.count, k], descr: "<f4"), to: 1)
        }
        let start = Date()
        var lastCheckpoint = Date()
        var done = resumedAt
        var peakHeap = MemoryUsage.anonymousResidentBytes()
        try progress(done, range.count)
        while done < range.count {
            let block = (range.lowerBound + done)..<min(range.lowerBound + done + spec.blockSize, range.upperBound)
            let queries = try source.block(block)
            let excluded = exclusions.map { ex in block.map { ex.rowsByQuery[$0] ?? [] } }
            let result = try scorer.search(queries, k: spec.k, exclusions: excluded, firstQuery: block.lowerBound)
            if npy {
                try output.append(result.rows.withUnsafeBytes { Array($0) }, to: 0)
                try output.append(result.scores.withUnsafeBytes { Array($0) }, to: 1)
            } else {
                var text: [UInt8] = []
                for (i, query) in block.enumerated() { appendLine(&text, query: query, result.results(i)) }
                try output.append(text)
            }
            done += block.count
            if Date().timeIntervalSince(lastCheckpoint) >= spec.checkpointInterval, done < range.count {
                try output.checkpoint(done: done)
                lastCheckpoint = Date()
            }
            if let now = MemoryUsage.anonymousResidentBytes() { peakHeap = max(peakHeap ?? 0, now) }
            try progress(done, range.count)
        }
        try output.finish()
        try writeManifest()
        return Summary(queries: range.count - resumedAt, items: catalog.rows, k: min(spec.k, catalog.rows), resumedAt: resumedAt,
                       seconds: Date().timeIntervalSince(start), loadSeconds: loadSeconds,
                       unknownExcludedItems: exclusions?.unknownItems ?? 0, catalogPlacement: scorer.placementDescription,
                       rescored: spec.rescore == nil ? nil : scorer.stats, peakHeapBytes: peakHeap,
                       peakResidentBytes: MemoryUsage.peakResidentBytes())
    }

    /// `{"query":…,"items":[…],"scores":[…]}\n`; floats in Swift's shortest round-trip form.
    private func appendLine(_ out: inout [UInt8], query: Int, _ results: [(row: Int, score: Float)]) {
        out += Array("{\"query\":".utf8)
        if let queryIds { JSONText.appendString(&out, queryIds[query]) } else { out += Array(String(query).utf8) }
        out += Array(",\"items\":[".utf8)
        for (j, r) in results.enumerated() {
            if j > 0 { out.append(UInt8(ascii: ",")) }
            if let ids = catalog.ids { JSONText.appendString(&out, ids[r.row]) } else { out += Array(String(r.row).utf8) }
        }
        out += Array("],\"scores\":[".utf8)
        for (j, r) in results.enumerated() {
            if j > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(r.score.description.utf8)
        }
        out += Array("]}\n".utf8)
    }

    private func writeManifest() throws {
        let manifest = ScoreManifest(
            job: jobDigest.description, shard: [spec.shard.index, spec.shard.count], queries: [range.lowerBound, range.upperBound],
            totalQueries: source.count, k: spec.k, metric: spec.metric.rawValue, catalog: spec.catalog, items: catalog.rows)
        try manifest.write(for: spec.output)
    }

    /// The two arrays an `.npy` output name stands for: `X.items.npy`, `X.scores.npy`.
    public static func npyPaths(_ output: String) -> [String] {
        let stem = String(output.dropLast(4))
        return [stem + ".items.npy", stem + ".scores.npy"]
    }

    static func lines(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw QuiverError.io(path: path, detail: "cannot read") }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}
