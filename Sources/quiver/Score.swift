import ArgumentParser
import Foundation
import QuiverRuntime

/// `quiver score`: exact top-k of every query against a catalog, as a resumable batch job.
struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score queries against an item catalog and write each query's exact top-k as JSONL.",
        discussion: """
            Output: one line per query, in query order: {"query": <index or id>, "items": [...], "scores": [...]}, \
            best first (ties: lower catalog row first). L2 scores are squared distances, smallest first.
            The output appears under its name only when complete. Progress is checkpointed every few seconds \
            (<output>.checkpoint); after an interruption, run the same command again to resume. A checkpoint from \
            different inputs or options is refused (use --restart to discard it). --shard I/N scores the I-th of N \
            slices of the queries; `quiver merge` combines the shard outputs into the single-run result.
            """)

    @Option(help: "Catalog: .npy (float32/float16 [items, dim]) or .safetensors (see `quiver catalog`).") var catalog: String
    @Option(help: "Item ids, one per line in catalog row order (default: items are named by row).") var ids: String?
    @Option(help: "For a reduced catalog (`quiver catalog convert`): its float32 original, for exact results.") var rescore: String?
    @Option(help: "With --rescore: candidates per query taken from the reduced catalog (default 8k for int8, 2k for f16; at least k+64, at most \(TopKLists.maxK)). More candidates mean fewer queries that need a full exact pass.") var shortlist: Int?
    @Option(help: "Query vectors: .npy float32/float16 [queries, dim].") var queries: String?
    @Option(help: "Query texts, embedded with --model (one per line, or JSONL with --format jsonl).") var texts: String?
    @Option(help: "Model for --texts: folder, ORG/NAME in the Hugging Face cache, or cache entry.") var model: String?
    @Option(help: "Format of --texts: text or jsonl.") var format: TextInput.Format = .text
    @Option(help: "Tokens per text for --texts (default: the model's max_seq_length).") var maxLength: Int?
    @Option(help: "Query ids, one per line in query order (default: queries are named by index).") var queryIds: String?
    @Option(help: "Results per query (1 ... \(TopKLists.maxK); more than the catalog holds returns every item).") var k: Int = 10
    @Option(help: "dot, cosine or l2.") var metric: Metric = .dot
    @Option(help: "JSONL of items never to return per query: {\"query\": i, \"exclude\": [items]}.") var exclude: String?
    @Option(help: "Output: .jsonl (one line per query), or X.npy for two arrays X.items.npy (int32 rows) and X.scores.npy.") var output: String
    @Option(help: "Score only slice I of N of the queries (0-based), e.g. 3/8.") var shard: String?
    @Option(help: "Queries per scoring step (checkpoints fall between steps).") var batchSize: Int = 2048
    @Option(help: "Seconds between checkpoints (0 = after every step).") var checkpointEvery: Double = 3
    @Flag(help: "Replace a finished output.") var overwrite = false
    @Flag(help: "Discard an existing checkpoint instead of resuming from it.") var restart = false
    @OptionGroup var backendOptions: BackendOptions

    func validate() throws {
        guard (queries == nil) != (texts == nil) else { throw ValidationError("give exactly one of --queries or --texts") }
        if texts != nil, model == nil { throw ValidationError("--texts needs --model") }
        if let shard, Shard(parsing: shard) == nil { throw ValidationError("--shard must be I/N with 0 ≤ I < N, e.g. 0/4") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        let selection = try backendOptions.select()
        let source: ScoreJob.Spec.Queries = if let queries { .vectors(path: queries) } else {
            .texts(path: texts!, format: format, model: model!, maxLength: maxLength)
        }
        var spec = ScoreJob.Spec(catalog: catalog, queries: source, k: k, metric: metric, output: output)
        (spec.ids, spec.queryIds, spec.exclude, spec.rescore, spec.shortlist) = (ids, queryIds, exclude, rescore, shortlist)
        spec.shard = shard.flatMap(Shard.init(parsing:)) ?? .whole
        (spec.blockSize, spec.overwrite, spec.restart, spec.checkpointInterval) = (batchSize, overwrite, restart, checkpointEvery)

        let job = try ScoreJob(spec: spec, backend: selection.backend, threads: ProcessInfo.processInfo.activeProcessorCount)
        if job.range.count < job.source.count {
            Log.info("shard \(spec.shard): queries \(job.range.lowerBound)..<\(job.range.upperBound) of \(job.source.count)")
        }
        let bar = ProgressBar(label: "score", unit: "queries")
        let items = Double(job.catalog.rows)
        let started = Date()
        var first: Int?
        let summary = try job.run { done, total in
            if first == nil { first = done }
            let rate = Double(done - (first ?? 0)) / max(Date().timeIntervalSince(started), 1e-9)
            bar.update(done: done, fraction: Double(done) / Double(max(total, 1)),
                       detail: String(format: "%.2e item·queries/s", rate * items))
        }
        bar.finish(done: job.range.count)
        let rate = Double(summary.queries) / max(summary.seconds, 1e-9)
        var line = String(format: "scored %d queries × %d items (k=%d, %@) in %.3f s: %.1f queries/s, %.3e item·queries/s (load %.2f s, %@ backend%@) -> %@",
                          summary.queries, summary.items, summary.k, metric.rawValue, summary.seconds, rate, rate * items,
                          summary.loadSeconds, selection.backend.device.backend,
                          ", catalog " + summary.catalogPlacement, output)
        if summary.resumedAt > 0 { line += " (resumed after \(summary.resumedAt) queries)" }
        if let heap = summary.peakHeapBytes, let rss = summary.peakResidentBytes {
            line += String(format: "; heap %.0f MB, peak resident %.0f MB with the mapped catalog", Double(heap) / 1e6, Double(rss) / 1e6)
        }
        if let rescored = summary.rescored {
            line += "; \(rescored.rescored) queries rescored in float32, \(rescored.fallbacks) of them scored in full (no certificate)"
        }
        if summary.unknownExcludedItems > 0 { line += "; \(summary.unknownExcludedItems) excluded item ids were not in the catalog" }
        Log.info(line)
    }
}

/// `quiver merge`: shard outputs → the single-run output.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Combine the outputs of `quiver score --shard I/N` runs into the output one run gives (byte-identical).")

    @Argument(help: "Shard outputs (each with its .manifest.json), in any order.") var shards: [String]
    @Option(help: "Merged output: .jsonl, or X.npy (for .npy shards; writes X.items.npy and X.scores.npy).") var output: String
    @Flag(help: "Replace an existing output.") var overwrite = false

    func run() throws {
        try ScoreMerge.merge(shards, into: output, overwrite: overwrite)
        Log.info("merged \(shards.count) shards -> \(output)")
    }
}

extension Metric: ExpressibleByArgument {}
