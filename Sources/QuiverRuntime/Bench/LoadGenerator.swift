import Foundation

/// How load is offered.
public enum LoadMode: Sendable, Equatable {
    /// Poisson arrivals at `rate` requests/s, independent of the answers (how users arrive).
    case open(rate: Double)
    /// `concurrency` clients, each sending its next request when the previous one is answered.
    case closed(concurrency: Int)
}

/// One request as the client saw it.
public struct BenchSample: Sendable {
    /// When it was due to be sent, seconds from the start of the run (warm-up included).
    public var start: Double
    /// Seconds from `start` to the answer. Open loop measures from the scheduled arrival, so a
    /// client that falls behind is charged to the latency instead of quietly sending less.
    public var latency: Double
    public var outcome: BenchOutcome

    public init(start: Double, latency: Double, outcome: BenchOutcome) {
        (self.start, self.latency, self.outcome) = (start, latency, outcome)
    }
}

/// What one load run produced: the samples of the measured window and the scheduler counters over it.
public struct LoadRun: Sendable {
    public var samples: [BenchSample]
    /// Length of the measured window (the warm-up is excluded), seconds.
    public var window: Double
    /// Scheduler counters accumulated during the measured window (empty for HTTP targets).
    public var stats: [String: BatcherWindow]
    /// 1-minute load average of the machine when the run started and ended.
    public var loadAverage: [Double]

    public init(samples: [BenchSample], window: Double, stats: [String: BatcherWindow], loadAverage: [Double]) {
        (self.samples, self.window, self.stats, self.loadAverage) = (samples, window, stats, loadAverage)
    }
}

/// Drives a `BenchTarget` with open- or closed-loop load for `warmup + duration` seconds, then waits
/// for every request in flight. Only requests due after the warm-up are kept.
public struct LoadGenerator: Sendable {
    public var mode: LoadMode
    public var duration: Double
    public var warmup: Double
    public var seed: UInt64

    public init(mode: LoadMode, duration: Double, warmup: Double = 1, seed: UInt64 = 1) {
        (self.mode, self.duration, self.warmup, self.seed) = (mode, duration, max(0, warmup), seed)
    }

    public func run(_ target: any BenchTarget, _ workload: Workload) async -> LoadRun {
        let clock = ContinuousClock()
        let origin = clock.now
        let load0 = Self.loadAverage()
        let end = warmup + duration
        let (warmup, seed, mode) = (self.warmup, self.seed, self.mode)
        // Counters at the end of the warm-up, taken on the side.
        let before = Task { () -> [String: SchedulerStats] in
            try? await clock.sleep(until: origin + .seconds(warmup), tolerance: nil)
            return await target.schedulerStats()
        }
        // The generator and every request task run on the target's preferred executor, if any
        // (an HTTP client's event loop: no thread hand-offs between the client's own steps).
        var samples = await withTaskExecutorPreference(target.preferredExecutor) {
            switch mode {
            case let .open(rate):
                await Self.openLoop(target, workload, rate: rate, end: end, seed: seed, clock: clock, origin: origin)
            case let .closed(concurrency):
                await Self.closedLoop(target, workload, concurrency: concurrency, end: end, seed: seed, clock: clock, origin: origin)
            }
        }
        samples.removeAll { $0.start < warmup }
        samples.sort { $0.start < $1.start }
        let stats = BatcherWindow.between(await before.value, await target.schedulerStats())
        return LoadRun(samples: samples, window: duration, stats: stats, loadAverage: [load0, Self.loadAverage()].compactMap { $0 })
    }

    private static func openLoop(_ target: any BenchTarget, _ workload: Workload, rate: Double, end: Double, seed: UInt64,
                                 clock: ContinuousClock, origin: ContinuousClock.Instant) async -> [BenchSample] {
        await withTaskGroup(of: BenchSample.self) { group in
            var arrivals = PoissonArrivals(rate: rate, seed: seed)
            var random = BenchRandom(seed: seed ^ 0x5EED)
            var due = arrivals.nextGap()
            while due < end {
                let at = origin + .seconds(due)
                if clock.now < at { try? await clock.sleep(until: at, tolerance: nil) }
                let (request, start) = (workload.request(&random), due)
                group.addTask(executorPreference: target.preferredExecutor) {
                    let outcome = await target.send(request)
                    return BenchSample(start: start, latency: Self.seconds(origin.duration(to: clock.now)) - start, outcome: outcome)
                }
                due += arrivals.nextGap()
            }
            var out: [BenchSample] = []
            for await sample in group { out.append(sample) }
            return out
        }
    }

    private static func closedLoop(_ target: any BenchTarget, _ workload: Workload, concurrency: Int, end: Double, seed: UInt64,
                                   clock: ContinuousClock, origin: ContinuousClock.Instant) async -> [BenchSample] {
        await withTaskGroup(of: [BenchSample].self) { group in
            for client in 0..<max(1, concurrency) {
                group.addTask(executorPreference: target.preferredExecutor) {
                    var random = BenchRandom(seed: seed &+ UInt64(client) &* 0x9E37_79B9)
                    var out: [BenchSample] = []
                    while case let start = Self.seconds(origin.duration(to: clock.now)), start < end {
                        let outcome = await target.send(workload.request(&random))
                        out.append(BenchSample(start: start, latency: Self.seconds(origin.duration(to: clock.now)) - start, outcome: outcome))
                    }
                    return out
                }
            }
            var out: [BenchSample] = []
            for await part in group { out += part }
            return out
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    /// The 1-minute load average from /proc/loadavg (nil where there is none).
    public static func loadAverage() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").first.flatMap { Double($0) }
    }
}
