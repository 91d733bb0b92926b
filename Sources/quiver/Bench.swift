import ArgumentParser
import Dispatch
import Foundation
import QuiverHTTPBench
import QuiverRuntime

/// `quiver bench`: load-tests the in-process `Engine` (or an HTTP endpoint) and reports client-side
/// latency percentiles, throughput, goodput, refusals and batch sizes, per scheduling policy.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load-test the serving path: latency percentiles, throughput, goodput, rejections, batch sizes; --sweep finds the max sustainable rate.",
        discussion: """
            Open loop (--rate R: Poisson arrivals, R requests/s) or closed loop (--concurrency N clients), for \
            --duration after a --warmup whose requests are not counted. Latency is measured by the client, from the \
            moment a request was due. --sweep raises the open-loop rate (doubling, then bisecting) to the highest one \
            whose p99 stays within --latency-target with at most 1% of requests refused or failed, then measures \
            --profile fractions of it. --policies runs everything once per policy, in one process, for comparison.
            Examples:
              quiver bench --model models/all-MiniLM-L6-v2 --rate 200 --duration 10s
              quiver bench --model models/all-MiniLM-L6-v2 --sweep --policies slo,none,window:8:5ms \\
                  --latency-target 50ms --json serving.json --report serving.svg
              quiver bench --url http://127.0.0.1:8080 --concurrency 16
            --suite gpu runs the GPU benchmark suite instead (OpenCL device facts, GEMM vs FP32 peak, scoring bandwidth \
            vs memory bandwidth checked against the CPU backend, encode throughput, single-query search latency):
              quiver bench --suite gpu --model models/all-MiniLM-L6-v2 --json gpu.json --report gpu.md [--size small] [--device 0]
            """)

    @Option(help: ArgumentHelp("Run a benchmark suite instead of a load test.", valueName: "gpu")) var suite: String?
    @OptionGroup(title: "GPU suite (--suite gpu)") var gpuSuite: GPUSuiteOptions
    // Target
    @Option(help: "Model folder or hub id for the in-process engine.") var model: String?
    @Option(help: "HTTP endpoint instead of the in-process engine (POST /v1/embeddings is appended).") var url: String?
    @Option(help: "The \"model\" field sent over HTTP (default: the --model folder name, else omitted).") var apiModel: String?
    @Option(help: "Most HTTP connections open at once (keep-alive; a new one whenever all are busy).") var connections = 512
    @Option(help: "Catalog (.npy/.safetensors) for the search and recommend workloads.") var catalog: String?
    @Option(help: "Item ids of the catalog, one per line.") var ids: String?
    @Option(help: "Similarity: dot, cosine or l2.") var metric: Metric = .cosine
    // Workload
    @Option(help: "embed, search or recommend.") var workload: WorkloadKind = .embed
    @Option(help: "Texts to draw requests from, one per line (default: generated short queries).") var texts: String?
    @Option(help: "How many short queries to generate when there is no --texts.") var queryCount = 1000
    @Option(help: "Results per search/recommend request.") var k = 10
    // Load
    @Option(help: "Open loop: Poisson arrivals at this many requests/s (with --sweep: the first rate tried).") var rate: Double?
    @Option(help: "Closed loop: this many clients, each waiting for its answer before sending again.") var concurrency: Int?
    @Option(help: "Measured time per run (e.g. 10s).") var duration = "10s"
    @Option(help: "Time before each run's measurement starts (requests sent then are not counted).") var warmup = "1s"
    @Option(help: "Seed of arrivals and request choice.") var seed: UInt64 = 1
    @Option(help: "Per-request deadline passed to the in-process engine (default: the policy's own; slo: --latency-target).") var timeout: String?
    // Engine
    @Option(help: "Scheduling policy: slo, none, window or window:MAX_BATCH:MAX_DELAY.") var policy = "slo"
    @Option(help: "Comma-separated policies to run one after another, e.g. slo,none,window:8:5ms.") var policies: String?
    @Option(help: "p99 latency target (engine's slo policy, goodput and --sweep).") var latencyTarget = "50ms"
    @Option(help: "Max requests per batch of --policy window.") var windowMaxBatch = 32
    @Option(help: "Max queue delay of --policy window.") var windowMaxDelay = "5ms"
    @Option(help: "Padded tokens per text batch.") var maxBatchTokens = 8192
    @Option(help: "Rows per feature or search batch.") var maxBatchRows = 256
    @Option(help: "Requests allowed to wait per batcher before overload rejections.") var queueCapacity = 1024
    @Option(help: ArgumentHelp("Batches run at once: auto (CPU: one single-threaded batch per core; OpenCL: 1) or a count sharing the cores.", valueName: "auto|N"))
    var concurrentBatches: String?
    @Option(help: "Tokens per text (default: the model's max_seq_length).") var maxLength: Int?
    @OptionGroup var backendOptions: BackendOptions
    // Sweep
    @Flag(help: "Search for the max sustainable open-loop rate.") var sweep = false
    @Option(help: "Highest rate the sweep tries.") var sweepMaxRate = 100_000.0
    @Option(help: "The sweep stops when its bracket is this narrow (relative).") var sweepPrecision = 0.05
    @Option(help: "Fractions of the found rate measured after a sweep.") var profile = "0.2,0.4,0.6,0.8"
    // Output
    @Option(help: "Write every figure as JSON.") var json: String?
    @Option(help: "Write a report: .svg (latency vs load, latency CDF), .html (with tables) or .md; repeatable.") var report: [String] = []
    @Option(help: "Redraw --report from this JSON result instead of running.") var replot: String?

    func validate() throws {
        if let suite {
            guard suite == "gpu" else { throw ValidationError("unknown suite '\(suite)'; the only suite is gpu") }
            guard url == nil, replot == nil else { throw ValidationError("--suite gpu runs in process; drop --url and --replot") }
            try gpuSuite.validate(backend: backendOptions.backend, model: model)
            guard report.allSatisfy({ ($0 as NSString).pathExtension.lowercased() == "md" }) else {
                throw ValidationError("--suite gpu writes its --report as Markdown: give a .md file name")
            }
            try createParentFolders()
            return
        }
        if replot != nil {
            guard !report.isEmpty else { throw ValidationError("--replot needs --report FILE") }
            return
        }
        guard (model == nil) != (url == nil) else { throw ValidationError("give either --model (in-process engine) or --url (HTTP endpoint)") }
        if url != nil, workload != .embed { throw ValidationError("over HTTP only --workload embed is supported") }
        if connections < 1 { throw ValidationError("--connections must be at least 1") }
        if url != nil, policies != nil { throw ValidationError("--policies needs the in-process engine (--model); the server picks its own policy") }
        if workload != .embed, catalog == nil { throw ValidationError("--workload \(workload.rawValue) needs --catalog") }
        if sweep {
            guard concurrency == nil else { throw ValidationError("--sweep is open loop; drop --concurrency") }
        } else {
            guard (rate == nil) != (concurrency == nil) else { throw ValidationError("give --rate R (open loop), --concurrency N (closed loop) or --sweep") }
        }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        try createParentFolders()
    }

    private func createParentFolders() throws {
        for path in [json] + report.map(Optional.some) {
            guard let path else { continue }
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
        }
    }

    func run() throws {
        if suite != nil {
            return try GPUSuiteCommand.run(options: gpuSuite, model: model, seed: seed, device: backendOptions.device, json: json, reports: report)
        }
        if let replot {
            let document = try BenchDocument.read(try Data(contentsOf: URL(fileURLWithPath: replot)))
            for path in report { try BenchReport.write(document, to: path) }
            return
        }
        let job = try makeJob()
        let failure = FailureBox()
        let done = DispatchSemaphore(value: 0)
        // The root command is synchronous; the engine is async. Block this thread, not the pool.
        Task {
            do { try await job.run() } catch { failure.error = error }
            done.signal()
        }
        done.wait()
        if let error = failure.error { throw error }
    }

    private func makeJob() throws -> BenchJob {
        let target = try BenchSpec.duration(latencyTarget, defaultUnit: "ms")
        let windowDelay = try BenchSpec.duration(windowMaxDelay, defaultUnit: "ms")
        let parsed = try (policies ?? policy).split(separator: ",").map(String.init).map { try BenchSpec.policy($0, windowMaxBatch: windowMaxBatch, windowMaxDelay: windowDelay) }
        let fractions = try profile.split(separator: ",").map { text -> Double in
            guard let f = Double(text.trimmingCharacters(in: .whitespaces)), f > 0, f < 1 else {
                throw ValidationError("--profile takes fractions between 0 and 1, e.g. 0.2,0.4,0.6,0.8")
            }
            return f
        }
        let seconds = { (d: Duration) in Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
        let plan = BenchPlan(mode: concurrency.map { .closed(concurrency: $0) } ?? .open(rate: rate ?? 16),
                             duration: seconds(try BenchSpec.duration(duration)), warmup: seconds(try BenchSpec.duration(warmup)),
                             seed: seed, latencyTarget: seconds(target),
                             sweep: sweep ? RateSweep(startRate: rate ?? 16, maxRate: sweepMaxRate, precision: sweepPrecision) : nil,
                             profile: fractions)

        var config = Engine.Configuration()
        (config.model, config.catalog, config.ids, config.metric, config.maxLength) = (model, catalog, ids, metric, maxLength)
        (config.latencyTarget, config.maxBatchTokens, config.maxBatchRows, config.queueCapacity) = (target, maxBatchTokens, maxBatchRows, queueCapacity)
        let modelName = model.map { URL(fileURLWithPath: $0).lastPathComponent }
        let concurrency = try ConcurrentBatches.resolve(concurrentBatches, cores: BackendFactory.defaultCPUThreads)
        let backend = url == nil ? try backendOptions.select(cpuThreads: concurrency.cpuThreads).backend : nil
        if let backend { config.concurrentBatches = concurrency.batches(on: backend) }
        var settings = [
            "max_batch_tokens": String(maxBatchTokens), "max_batch_rows": String(maxBatchRows), "queue_capacity": String(queueCapacity),
            "duration": duration, "warmup": warmup, "seed": String(seed), "workload_texts": texts ?? "generated (\(queryCount))",
            "openblas_coretype": ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "unset",
        ]
        if let timeout { settings["timeout"] = timeout }
        if url != nil { settings["connections"] = String(connections) } else { settings["concurrent_batches"] = String(config.concurrentBatches) }
        let document = BenchDocument(target: url ?? "engine (in process)",
                                     backend: backend.map { "\($0.device.backend) on \($0.device.name)" } ?? "remote",
                                     model: modelName ?? apiModel, workload: workload.rawValue,
                                     latencyTargetMs: seconds(target) * 1000, settings: settings)
        // Over HTTP the server applies its own policy; results are labelled "server".
        return BenchJob(policies: url == nil ? parsed.map { (BenchSpec.name($0), $0) } : [("server", .slo)],
                        config: config, backend: backend, url: url, apiModel: apiModel ?? modelName, connections: connections,
                        timeout: try timeout.map { try BenchSpec.duration($0, defaultUnit: "ms") },
                        kind: workload, texts: try texts.map(Workload.texts(file:)) ?? Workload.generatedQueries(count: queryCount, seed: seed),
                        k: k, plan: plan, document: document, json: json, reports: report)
    }
}

extension WorkloadKind: ExpressibleByArgument {}

/// Carries an error out of the benchmark task.
private final class FailureBox: @unchecked Sendable {
    var error: (any Error)?
}

/// Everything a benchmark needs, resolved from the flags.
private struct BenchJob: Sendable {
    var policies: [(String, BatchPolicy)]
    var config: Engine.Configuration
    var backend: (any ComputeBackend)?
    var url: String?
    var apiModel: String?
    var connections: Int
    var timeout: Duration?
    var kind: WorkloadKind
    var texts: [String]
    var k: Int
    var plan: BenchPlan
    var document: BenchDocument
    var json: String?
    var reports: [String]

    func run() async throws {
        var document = self.document
        var workload: Workload?
        for (name, policy) in policies {
            let target: any BenchTarget
            var items: [String] = []
            if let url {
                target = try HTTPTarget(url: url, model: apiModel, connections: connections)
            } else {
                var config = config
                config.policy = policy
                let engine = EngineTarget(engine: try Engine(configuration: config, backend: backend!), timeout: timeout)
                items = engine.catalogItems
                target = engine
            }
            if workload == nil { workload = try Workload(kind: kind, texts: texts, items: items, k: k) }
            Log.info("[\(name)] \(plan.sweep == nil ? "running" : "sweeping") \(kind.rawValue) requests")
            let result = await BenchSession.run(policy: name, target: target, workload: workload!, plan: plan) { Log.info($0) }
            await target.close()
            document.policies.append(result)
            try save(document)
        }
        print(BenchReport.summaryTable(document), terminator: "")
    }

    /// Writes the JSON and reports (after each policy, so an interrupted comparison keeps what it measured).
    func save(_ document: BenchDocument) throws {
        if let json { try document.json().write(to: URL(fileURLWithPath: json), options: .atomic) }
        for path in reports { try BenchReport.write(document, to: path) }
    }
}
