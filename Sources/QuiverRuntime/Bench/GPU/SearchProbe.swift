import Foundation

/// The search section: single vector queries through `Engine.search(vector:k:)` (dynamic batcher,
/// device queue, `Scorer`, results back as ids), one client in a closed loop, so every request
/// runs alone and the latency is the engine's floor: p50/p99 from the client's side.
struct SearchProbe {
    let device: any ComputeBackend
    let plan: GPUSuitePlan
    let catalogs: SyntheticCatalogs
    let log: (String) -> Void

    /// Seconds; p99 at or below it counts as "sustainable" in the run (the H100 goal).
    static let latencyGoal = 0.002

    func run() async throws -> SearchSection {
        var config = Engine.Configuration()
        config.catalog = try catalogs.path(rows: plan.searchRows, .f32)
        config.metric = .dot
        config.policy = .slo
        let engine = try Engine(configuration: config, backend: device)
        let queries = SyntheticData.gridValues(count: 1024 * plan.dimension, seed: plan.seed, stream: 2)
        let target = VectorSearchTarget(engine: engine, queries: queries, dimension: plan.dimension)
        let workload = try Workload(kind: .search, texts: (0..<1024).map(String.init), k: plan.searchK)
        let generator = LoadGenerator(mode: .closed(concurrency: 1), duration: plan.searchDuration, warmup: plan.searchWarmup, seed: plan.seed)
        let loadRun = await generator.run(target, workload)
        await target.close()
        let run = RunResult(loadRun, mode: .closed(concurrency: 1), phase: "single", latencyTarget: Self.latencyGoal)
        log(String(format: "[search] %d × %d, k %d, 1 client: p50 %.3f ms, p99 %.3f ms, %.0f requests/s, %d failed%@",
                   plan.searchRows, plan.dimension, plan.searchK, run.latencyMs.p50, run.latencyMs.p99, run.throughput, run.failed,
                   run.firstError.map { " (\($0))" } ?? ""))
        if run.completed == 0 || run.failed > 0 {
            throw QuiverError.invalidArgument("search benchmark: \(run.completed) of \(run.sent) requests completed; first error: \(run.firstError ?? "none")")
        }
        return SearchSection(rows: plan.searchRows, dimension: plan.dimension, k: plan.searchK, policy: "slo", run: run)
    }
}

/// `Engine.search(vector:)` as a benchmark target. The workload's search "texts" are query
/// numbers ("0" …): request i searches for row i of `queries` (`[n, dimension]`), so the load
/// generator's seeded request choice picks vectors.
struct VectorSearchTarget: BenchTarget {
    let engine: Engine
    let queries: [Float]
    let dimension: Int

    func send(_ request: BenchRequest) async -> BenchOutcome {
        guard case let .search(text, k) = request, let i = Int(text), (i + 1) * dimension <= queries.count else {
            return .failed("VectorSearchTarget takes .search requests naming a query number, got \(request)")
        }
        do {
            _ = try await engine.search(vector: Array(queries[(i * dimension)..<((i + 1) * dimension)]), k: k)
            return .ok
        } catch {
            return EngineTarget.outcome(of: error)
        }
    }

    func schedulerStats() async -> [String: SchedulerStats] { await engine.stats() }

    func close() async { await engine.shutdown() }
}
