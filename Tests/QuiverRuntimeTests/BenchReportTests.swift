import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import QuiverRuntime
import QuiverTestSupport

/// Results, JSON, and the SVG/HTML/markdown reports of `quiver bench`, from synthetic runs.
struct BenchReportTests {
    /// 100 completed requests at 1…100 ms, one overloaded, one past its deadline, over 2 s.
    static func run(rate: Double, latencyScale: Double = 1, refused: Bool = true, stats: [String: BatcherWindow] = [:]) -> LoadRun {
        var samples = (1...100).map { BenchSample(start: Double($0) / 50, latency: Double($0) * 1e-3 * latencyScale, outcome: .ok) }
        if refused {
            samples.append(BenchSample(start: 0.5, latency: 0, outcome: .overloaded))
            samples.append(BenchSample(start: 0.6, latency: 0.001, outcome: .deadline))
        }
        return LoadRun(samples: samples, window: 2, stats: stats, loadAverage: [0.4, 0.5])
    }

    @Test func runResultCountsEveryOutcome() {
        var window = BatcherWindow()
        (window.batches, window.batchRows, window.runTime, window.queueDelay, window.queued, window.late) = (10, [1: 5, 4: 5], 0.1, 0.05, 25, 1)
        let r = RunResult(Self.run(rate: 51, stats: ["text": window]), mode: .open(rate: 51), phase: "single", latencyTarget: 0.05)
        #expect(r.sent == 102 && r.completed == 100 && r.rejectedOverload == 1 && r.rejectedDeadline == 1 && r.failed == 0)
        #expect(r.withinTarget == 50)
        #expect(r.throughput == 50 && r.goodput == 25)
        #expect(abs(r.unservedFraction - 2.0 / 102) < 1e-12)
        #expect(r.latencyMs.p50 == 50 && r.latencyMs.p99 == 99 && r.latencyMs.max == 100 && abs(r.latencyMs.mean - 50.5) < 1e-9)
        #expect(!r.sustainable, "p99 99 ms > 50 ms and 2% refused")
        let text = r.batches["text"]
        #expect(text?.batches == 10 && text?.sizes == ["1": 5, "4": 5] && text?.meanRows == 2.5 && text?.late == 1)
        #expect(text.map { abs($0.meanRunMs - 10) < 1e-9 && abs($0.meanQueueMs - 2) < 1e-9 } == true)
        #expect(r.offeredRate == 51 && r.mode == "open")

        let fast = RunResult(Self.run(rate: 51, latencyScale: 0.4, refused: false), mode: .closed(concurrency: 4), phase: "single", latencyTarget: 0.05)
        #expect(fast.sustainable && fast.withinTarget == 100 && fast.concurrency == 4 && fast.offeredRate == nil)
        let failing = RunResult(LoadRun(samples: [BenchSample(start: 0, latency: 0, outcome: .failed("boom"))], window: 1, stats: [:], loadAverage: []),
                                mode: .open(rate: 1), phase: "single", latencyTarget: 1)
        #expect(!failing.sustainable && failing.failed == 1 && failing.firstError == "boom")
    }

    @Test func statsDeltaCoversTheMeasuredWindowOnly() {
        var before = SchedulerStats(), after = SchedulerStats()
        (before.batches, before.batchRows, before.completed) = (3, [1: 3], 3)
        (after.batches, after.batchRows, after.completed, after.rejectedDeadline) = (13, [1: 8, 4: 5], 28, 2)
        for i in 0..<13 {
            if i < 3 { before.runTime.record(.milliseconds(4)) }
            after.runTime.record(.milliseconds(4))
        }
        for i in 0..<28 {
            if i < 3 { before.queueDelay.record(.milliseconds(1)) }
            after.queueDelay.record(.milliseconds(i < 3 ? 1 : 2))
        }
        let d = BatcherWindow.between(["text": before], ["text": after, "search": after])
        let text = d["text"]
        #expect(text?.batches == 10 && text?.batchRows == [1: 5, 4: 5] && text?.completed == 25 && text?.rejectedDeadline == 2)
        #expect(text.map { abs($0.runTime - 0.040) < 1e-9 && abs($0.queueDelay - 0.050) < 1e-9 && $0.queued == 25 } == true)
        #expect(d["search"]?.batches == 13, "a batcher absent before counts from zero")
    }

    /// slo sustains 283 req/s, none 100 req/s.
    static func document() -> BenchDocument {
        func runs(_ points: [(Double, Double)]) -> [RunResult] {
            points.map { rate, scale in
                RunResult(run(rate: rate, latencyScale: scale, refused: false), mode: .open(rate: rate), phase: "sweep", latencyTarget: 0.05)
            }
        }
        return BenchDocument(target: "engine (in process)", backend: "cpu on Test CPU", model: "all-MiniLM-L6-v2", workload: "embed",
                             latencyTargetMs: 50, settings: ["queue_capacity": "1024"], policies: [
                                 PolicyResult(policy: "slo", maxSustainableRate: 283, runs: runs([(100, 0.2), (200, 0.3), (400, 3), (283, 0.45)])),
                                 PolicyResult(policy: "none", maxSustainableRate: 100, runs: runs([(100, 0.4), (200, 5)])),
                             ])
    }

    @Test func jsonRoundTripsWithSnakeCaseKeys() throws {
        let doc = Self.document()
        let data = try doc.json()
        let text = String(decoding: data, as: UTF8.self)
        for key in ["\"max_sustainable_rate\"", "\"latency_ms\"", "\"p99\"", "\"goodput\"", "\"rejected_overload\"", "\"latency_target_ms\"", "\"cdf\""] {
            #expect(text.contains(key), "\(key) missing")
        }
        let back = try BenchDocument.read(data)
        #expect(back.policies.map(\.policy) == ["slo", "none"])
        #expect(back.policies[0].maxSustainableRate == 283 && back.policies[0].runs.count == 4)
        #expect(back.policies[0].runs[0].latencyMs == doc.policies[0].runs[0].latencyMs)
    }

    @Test func svgHasOneCurvePerPolicyInEachPanel() throws {
        let doc = Self.document()
        let svg = BenchReport.svg(doc)
        #expect(svg.components(separatedBy: "class=\"series\"").count - 1 == 4, "2 policies × (load curve + CDF)")
        #expect(svg.contains("slo: max sustainable 283 req/s") && svg.contains("none: max sustainable 100 req/s"))
        #expect(svg.contains("target 50 ms") && svg.contains("p99 latency vs offered load") && svg.contains("latency CDF"))
        #expect(svg.contains("<path d=\"M"), "the 400 req/s point (p99 297 ms) is above the axis and drawn as a clipped marker")
        // Load curve of slo: points in order of rate.
        let polylines = svg.components(separatedBy: "<polyline points=\"").dropFirst().map { $0.prefix { $0 != "\"" } }
        let xs = polylines[0].split(separator: " ").map { Double($0.split(separator: ",")[0])! }
        #expect(xs == xs.sorted() && xs.count == 4)
        let empty = BenchReport.svg(BenchDocument(target: "t", backend: "b", model: nil, workload: "embed", latencyTargetMs: 50, settings: [:]))
        for (label, text) in [("report", svg), ("empty report", empty)] {
            let wellFormed = XMLParser(data: Data(text.utf8)).parse()
            #expect(wellFormed, "the \(label) SVG is well-formed XML")
        }
    }

    @Test func tablesAndFiles() throws {
        let doc = Self.document()
        let md = BenchReport.markdown(doc)
        #expect(md.contains("| slo | 283 | 2.83× |") && md.contains("| none | 100 | 1.00× |"), "\(md)")
        #expect(md.components(separatedBy: "| sweep |").count - 1 == 6)
        let html = BenchReport.html(doc)
        #expect(html.contains("<svg") && html.contains("<td>slo</td>") && html.contains("<th>policy</th>"))

        let dir = try Scratch.directory("bench-report")
        for name in ["r.svg", "r.html", "r.md"] {
            try BenchReport.write(doc, to: dir.appendingPathComponent(name).path)
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path))
        }
        #expect(throws: QuiverError.self) { try BenchReport.write(doc, to: dir.appendingPathComponent("r.png").path) }
    }
}
