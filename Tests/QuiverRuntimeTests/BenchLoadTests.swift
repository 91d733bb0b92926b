import Foundation
import Testing
import QuiverRuntime
import QuiverTestSupport

/// The load generator against a fake target, and `quiver bench` end to end. Nothing here asserts on elapsed time.
@Suite(.serialized) struct BenchLoadTests {
    /// Answers after 1 ms; every 10th request is refused as overloaded. Its scheduler counters
    /// grow by 5 batches of 2 rows each time they are read.
    final class FakeTarget: BenchTarget, @unchecked Sendable {
        private let lock = NSLock()
        private var sent: [BenchRequest] = []
        private var reads = 0

        var requests: [BenchRequest] { lock.withLock { sent } }

        func send(_ request: BenchRequest) async -> BenchOutcome {
            let n = lock.withLock { sent.append(request); return sent.count }
            try? await Task.sleep(for: .milliseconds(1))
            return n % 10 == 0 ? .overloaded : .ok
        }

        func schedulerStats() async -> [String: SchedulerStats] {
            let n = lock.withLock { reads += 1; return reads }
            var stats = SchedulerStats()
            (stats.batches, stats.batchRows) = (5 * n, [2: 5 * n])
            return ["text": stats]
        }

        func close() async {}
    }

    static let workload = try! Workload(kind: .embed, texts: ["a b", "c d e"])

    /// The open loop sends exactly the seeded Poisson arrivals: the kept samples start at the
    /// arrival instants inside the measured window, however slow the machine is.
    @Test func openLoopSendsTheSeededArrivals() async {
        let target = FakeTarget()
        let generator = LoadGenerator(mode: .open(rate: 400), duration: 0.4, warmup: 0.1, seed: 9)
        let run = await generator.run(target, Self.workload)

        var arrivals = PoissonArrivals(rate: 400, seed: 9)
        var due: [Double] = [], t = arrivals.nextGap()
        while t < 0.5 { due.append(t); t += arrivals.nextGap() }
        #expect(target.requests.count == due.count, "every arrival is sent, warm-up included")
        #expect(run.samples.map(\.start) == due.filter { $0 >= 0.1 })
        #expect(run.window == 0.4)
        #expect(run.samples.allSatisfy { $0.latency >= 0 })
        #expect(run.samples.contains { $0.outcome == .overloaded } && run.samples.contains { $0.outcome == .ok })
        #expect(run.stats["text"]?.batches == 5 && run.stats["text"]?.batchRows == [2: 5], "counters between the warm-up and the end")
    }

    @Test func closedLoopKeepsOnlyTheMeasuredWindow() async {
        let target = FakeTarget()
        let run = await LoadGenerator(mode: .closed(concurrency: 3), duration: 0.2, warmup: 0.05, seed: 1).run(target, Self.workload)
        // How many requests fit in 0.25 s depends on the machine (none, on a saturated one), so
        // only what holds for any count is checked.
        #expect(run.samples.allSatisfy { $0.start >= 0.05 && $0.start < 0.25 && $0.latency >= 0 })
        #expect(target.requests.count >= run.samples.count)
        #expect(target.requests.allSatisfy { $0 == .embed("a b") || $0 == .embed("c d e") })
    }

    // MARK: CLI

    @Test func benchCommandEndToEnd() throws {
        let dir = try Scratch.directory("bench-cli")
        let json = dir.appendingPathComponent("b.json").path, svg = dir.appendingPathComponent("b.svg").path
        let r = try CLITests.run(["bench", "--model", EncodeCLITests.model, "--backend", "cpu", "--rate", "20", "--duration", "1s",
                                  "--warmup", "0.2s", "--policies", "none,window:4:2ms", "--latency-target", "1s",
                                  "--json", json, "--report", svg])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("| none |") && r.stdout.contains("| window:4:2ms |"), "\(r.stdout)")
        let doc = try BenchDocument.read(Data(contentsOf: URL(fileURLWithPath: json)))
        #expect(doc.policies.map(\.policy) == ["none", "window:4:2ms"] && doc.latencyTargetMs == 1000 && doc.backend.hasPrefix("cpu"))
        for policy in doc.policies {
            let run = try #require(policy.runs.first)
            #expect(run.sent > 0 && run.completed + run.rejectedOverload + run.rejectedDeadline + run.failed == run.sent)
            #expect(run.failed == 0, "\(run.firstError ?? "")")
            #expect((run.batches["text"]?.batches ?? 0) > 0)
        }
        #expect(try String(contentsOfFile: svg, encoding: .utf8).contains("window:4:2ms"))

        let html = dir.appendingPathComponent("again.html").path
        let replot = try CLITests.run(["bench", "--replot", json, "--report", html])
        #expect(replot.status == 0 && FileManager.default.fileExists(atPath: html), "\(replot.stderr)")

        let bad = try CLITests.run(["bench", "--model", EncodeCLITests.model])
        #expect(bad.status != 0 && bad.stderr.contains("--rate"), "\(bad.stderr)")
        let badPolicy = try CLITests.run(["bench", "--model", EncodeCLITests.model, "--rate", "5", "--policy", "fifo"])
        #expect(badPolicy.status != 0 && badPolicy.stderr.contains("fifo"), "\(badPolicy.stderr)")
    }
}
