import Foundation
import Testing
import QuiverRuntime

/// The pure parts of `quiver bench`: exact percentiles, Poisson arrivals, the rate sweep, flag parsing.
struct BenchMathTests {
    /// Nearest-rank definition checked by counting: v is a sample, at least p% of the samples are
    /// ≤ v and fewer than p% are < v. Integer arithmetic in per-mille, so no rounding is involved.
    @Test(arguments: [1, 2, 3, 7, 10, 100, 999, 1000, 4099])
    func percentilesMatchTheNearestRankDefinition(n: Int) {
        var random = BenchRandom(seed: UInt64(n))
        let samples = (0..<n).map { _ in Double(random.next() % 37) * 0.5 }   // many ties
        let summary = LatencySummary(samples)
        for permille in [1, 10, 500, 900, 950, 990, 999, 1000] {
            guard let v = summary.percentile(Double(permille) / 10) else { Issue.record("nil for n=\(n)"); continue }
            let atMost = samples.filter { $0 <= v }.count, below = samples.filter { $0 < v }.count
            #expect(samples.contains(v))
            #expect(atMost * 1000 >= permille * n, "n=\(n) p=\(permille)‰: only \(atMost) samples ≤ \(v)")
            #expect(below * 1000 < permille * n, "n=\(n) p=\(permille)‰: \(below) samples < \(v), a smaller sample qualifies")
        }
        #expect(summary.max == samples.max())
        #expect(summary.percentile(100) == samples.max())
        let cdf = summary.cdf()
        #expect(zip(cdf, cdf.dropFirst()).allSatisfy { $0.value <= $1.value && $0.fraction < $1.fraction })
        #expect(cdf.last?.fraction == 1 && cdf.last?.value == samples.max())
    }

    @Test func percentilesOfKnownSamples() {
        let summary = LatencySummary((1...100).map(Double.init).reversed())
        #expect(summary.percentile(50) == 50)
        #expect(summary.percentile(99) == 99)
        #expect(summary.percentile(99.5) == 100)
        #expect(summary.percentile(0.5) == 1)
        #expect(LatencySummary([]).percentile(50) == nil)
        #expect(LatencySummary([]).cdf().isEmpty)
    }

    /// Exponential gaps: mean 1/λ, variance 1/λ²; counts per second: mean λ, variance λ
    /// (a Poisson process). Tolerances are > 4 standard errors at these sample sizes.
    @Test func poissonArrivalsHaveTheRightMeanAndVariance() {
        let rate = 250.0, n = 200_000
        var arrivals = PoissonArrivals(rate: rate, seed: 42)
        let gaps = (0..<n).map { _ in arrivals.nextGap() }
        let mean = gaps.reduce(0, +) / Double(n)
        let variance = gaps.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        #expect(abs(mean * rate - 1) < 0.01, "mean gap \(mean), expected \(1 / rate)")
        #expect(abs(variance * rate * rate - 1) < 0.03, "gap variance \(variance), expected \(1 / (rate * rate))")
        #expect(gaps.allSatisfy { $0 >= 0 && $0.isFinite })

        var counts = [Int](repeating: 0, count: Int(gaps.reduce(0, +)))
        var t = 0.0
        for gap in gaps {
            t += gap
            if Int(t) < counts.count { counts[Int(t)] += 1 }
        }
        let countMean = Double(counts.reduce(0, +)) / Double(counts.count)
        let countVariance = counts.reduce(0.0) { $0 + (Double($1) - countMean) * (Double($1) - countMean) } / Double(counts.count - 1)
        #expect(abs(countMean / rate - 1) < 0.02, "arrivals per second \(countMean)")
        #expect(abs(countVariance / countMean - 1) < 0.25, "dispersion \(countVariance / countMean), a Poisson process has 1")
    }

    @Test func arrivalsReplayForASeed() {
        var a = PoissonArrivals(rate: 10, seed: 7), b = PoissonArrivals(rate: 10, seed: 7), c = PoissonArrivals(rate: 10, seed: 8)
        let (x, y, z) = ((0..<50).map { _ in a.nextGap() }, (0..<50).map { _ in b.nextGap() }, (0..<50).map { _ in c.nextGap() })
        #expect(x == y)
        #expect(x != z)
    }

    // MARK: sweep

    /// A fake engine whose p99 is an M/M/1 response-time percentile: capacity μ, p99 = ln(100) / (μ − λ),
    /// and which refuses 2% of requests above 0.9 μ. Sustainable up to min(μ − ln 100 / target, 0.9 μ).
    struct FakeEngine {
        var capacity: Double
        var target: Double

        func passes(_ rate: Double) -> Bool {
            let p99: Double? = rate < capacity ? log(100) / (capacity - rate) : nil
            return RunResult.sustainable(p99: p99, unserved: rate > 0.9 * capacity ? 0.02 : 0, target: target)
        }
        var threshold: Double { min(capacity - log(100) / target, 0.9 * capacity) }
    }

    @Test(arguments: [(1000.0, 0.05), (300, 0.05), (120, 0.1), (5000, 0.01), (20, 1.0)])
    func sweepFindsTheThresholdOfAFakeEngine(capacity: Double, target: Double) async {
        let engine = FakeEngine(capacity: capacity, target: target)
        let sweep = RateSweep(startRate: 16, precision: 0.05, retries: 0)
        let outcome = await sweep.run { engine.passes($0) }
        guard let best = outcome.maxSustainableRate else {
            Issue.record("nothing sustainable, threshold \(engine.threshold)")
            return
        }
        #expect(best <= engine.threshold && best >= engine.threshold / 1.05, "found \(best), threshold \(engine.threshold)")
        #expect(outcome.firstFailingRate.map { $0 > engine.threshold && $0 / best <= 1.05 } == true)
        #expect(outcome.steps.allSatisfy { $0.passed == ($0.rate <= engine.threshold) })
        #expect(outcome.steps.count <= sweep.maxSteps)
    }

    @Test func sweepGoesDownWhenTheFirstRateFails() async {
        let outcome = await RateSweep(startRate: 16, precision: 0.05, retries: 0).run { $0 <= 3 }
        #expect(outcome.steps.prefix(4).map(\.rate) == [16, 8, 4, 2])
        #expect(outcome.maxSustainableRate.map { $0 <= 3 && $0 >= 3 / 1.05 } == true)
    }

    @Test func sweepLimits() async {
        let never = await RateSweep(startRate: 16, minRate: 1, retries: 0).run { _ in false }
        #expect(never.maxSustainableRate == nil && never.steps.map(\.rate) == [16, 8, 4, 2, 1])
        let always = await RateSweep(startRate: 16, maxRate: 100).run { _ in true }
        #expect(always.maxSustainableRate == 100 && always.firstFailingRate == nil)
        #expect(always.steps.map(\.rate) == [16, 32, 64, 100])
        let capped = await RateSweep(startRate: 16, retries: 1, maxSteps: 6).run { $0 < 1000.5 }
        #expect(capped.steps.count == 6)
        let cappedRetry = await RateSweep(startRate: 16, minRate: 1, retries: 2, maxSteps: 4).run { _ in false }
        #expect(cappedRetry.steps.map(\.rate) == [16, 16, 16, 8], "retries stop at maxSteps too")
    }

    /// A run disturbed by another process fails once; the retry of a failing rate absorbs it.
    @Test func aFailureIsMeasuredAgain() async {
        let engine = FakeEngine(capacity: 1000, target: 0.05)
        var disturbed: Set<Double> = [64, 512]   // the first measurement of these rates fails
        let outcome = await RateSweep(startRate: 16, precision: 0.05, retries: 1).run { rate in
            if disturbed.remove(rate) != nil { return false }
            return engine.passes(rate)
        }
        #expect(outcome.steps.prefix(4).map(\.rate) == [16, 32, 64, 64])
        #expect(outcome.maxSustainableRate.map { $0 <= engine.threshold && $0 >= engine.threshold / 1.05 } == true)
        #expect(outcome.steps.filter { !$0.passed && $0.rate <= engine.threshold }.map(\.rate) == [64, 512])
        let once = await RateSweep(startRate: 16, precision: 0.05, retries: 0).run { $0 != 64 && engine.passes($0) }
        #expect(once.maxSustainableRate.map { $0 < 64 } == true, "without a retry one bad run caps the search below 64")
    }

    // MARK: flags

    @Test func durations() throws {
        #expect(try BenchSpec.duration("50ms") == .milliseconds(50))
        #expect(try BenchSpec.duration("1.5s") == .milliseconds(1500))
        #expect(try BenchSpec.duration("200us") == .microseconds(200))
        #expect(try BenchSpec.duration("2m") == .seconds(120))
        #expect(try BenchSpec.duration("10") == .seconds(10))
        #expect(try BenchSpec.duration("5", defaultUnit: "ms") == .milliseconds(5))
        for bad in ["", "ms", "fast", "-1s", "1h"] {
            #expect(throws: QuiverError.self, "\(bad)") { try BenchSpec.duration(bad) }
        }
    }

    @Test func policies() throws {
        #expect(try BenchSpec.policy("slo") == .slo)
        #expect(try BenchSpec.policy("none") == BatchPolicy.none)
        #expect(try BenchSpec.policy("window", windowMaxBatch: 16, windowMaxDelay: .milliseconds(2)) == .window(maxBatch: 16, maxDelay: .milliseconds(2)))
        #expect(try BenchSpec.policy("window:8:5ms") == .window(maxBatch: 8, maxDelay: .milliseconds(5)))
        #expect(try BenchSpec.policy("Window:32:10") == .window(maxBatch: 32, maxDelay: .milliseconds(10)))
        #expect(BenchSpec.name(.window(maxBatch: 8, maxDelay: .microseconds(500))) == "window:8:0.5ms")
        #expect(BenchSpec.name(try BenchSpec.policy("window:32:10ms")) == "window:32:10ms")
        for bad in ["fifo", "window:0:5ms", "window:8", "slo:1", "window:x:5ms"] {
            #expect(throws: QuiverError.self, "\(bad)") { try BenchSpec.policy(bad) }
        }
    }

    @Test func generatedQueriesAreShortAndReplay() throws {
        let queries = Workload.generatedQueries(count: 500, seed: 3)
        #expect(queries == Workload.generatedQueries(count: 500, seed: 3))
        #expect(queries != Workload.generatedQueries(count: 500, seed: 4))
        let vocabulary = Set(Workload.queryVocabulary)
        for query in queries {
            let words = query.split(separator: " ").map(String.init)
            #expect((2...5).contains(words.count) && words.allSatisfy(vocabulary.contains), "\(query)")
        }
        #expect(Set(queries).count > 400, "queries should vary")
        #expect(throws: QuiverError.self) { try Workload(kind: .recommend, texts: ["a"]) }
        let workload = try Workload(kind: .recommend, texts: [], items: ["a", "b", "c"], k: 3, historyLength: 2...4)
        var random = BenchRandom(seed: 1)
        for _ in 0..<100 {
            guard case let .recommend(history, k) = workload.request(&random) else { Issue.record("not a recommend request"); continue }
            #expect((2...4).contains(history.count) && k == 3 && history.allSatisfy(["a", "b", "c"].contains))
        }
    }
}
