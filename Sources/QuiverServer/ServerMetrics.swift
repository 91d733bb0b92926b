import Foundation
import QuiverRuntime

/// Counters the server keeps itself (requests, latency, inputs and tokens, work in the engines),
/// rendered with the engines' scheduler counters as Prometheus text (`GET /metrics`).
final class ServerMetrics: @unchecked Sendable {
    /// Upper bounds (seconds) of the request-latency histogram buckets.
    static let latencyBuckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// Upper bounds (rows) of the batch-size histogram buckets.
    static let batchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]

    private struct Histogram {
        var counts = [Int](repeating: 0, count: ServerMetrics.latencyBuckets.count)
        var sum = 0.0
        var count = 0
    }

    private struct RouteStatus: Hashable { var route: String; var status: Int }

    private let lock = NSLock()
    private var requests: [RouteStatus: Int] = [:]
    private var latency: [String: Histogram] = [:]
    private var requestsInFlight = 0
    private var inputsInFlight: [String: Int] = [:]
    private var inputs: [String: Int] = [:]
    private var tokens: [String: Int] = [:]

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    // MARK: recording

    func requestStarted() { locked { requestsInFlight += 1 } }

    func requestFinished(route: String, status: Int, seconds: Double) {
        locked {
            requestsInFlight -= 1
            requests[RouteStatus(route: route, status: status), default: 0] += 1
            var h = latency[route] ?? Histogram()
            for (i, bound) in Self.latencyBuckets.enumerated() where seconds <= bound { h.counts[i] += 1 }
            h.sum += seconds
            h.count += 1
            latency[route] = h
        }
    }

    /// `count` inputs of `model` entered (positive) or left (negative) the engine.
    func inputsInEngine(_ model: String, _ count: Int) { locked { inputsInFlight[model, default: 0] += count } }

    /// Inputs embedded for a response and their tokens.
    func embedded(_ model: String, inputs n: Int, tokens t: Int) {
        locked {
            inputs[model, default: 0] += n
            tokens[model, default: 0] += t
        }
    }

    // MARK: exposition

    /// Prometheus text exposition format 0.0.4.
    func render(schedulers: [(model: String, stats: [String: SchedulerStats])]) -> String {
        var out = PrometheusText()
        locked {
            out.family("quiver_http_requests_total", "counter", "HTTP requests answered, by route and status.")
            for (key, n) in requests.sorted(by: { ($0.key.route, $0.key.status) < ($1.key.route, $1.key.status) }) {
                out.sample("quiver_http_requests_total", ["route": key.route, "status": String(key.status)], n)
            }
            out.family("quiver_http_request_duration_seconds", "histogram", "Time from request to response, by route.")
            for (route, h) in latency.sorted(by: { $0.key < $1.key }) {
                for (i, bound) in Self.latencyBuckets.enumerated() {
                    out.sample("quiver_http_request_duration_seconds_bucket", ["route": route, "le": String(bound)], h.counts[i])
                }
                out.sample("quiver_http_request_duration_seconds_bucket", ["route": route, "le": "+Inf"], h.count)
                out.sample("quiver_http_request_duration_seconds_sum", ["route": route], h.sum)
                out.sample("quiver_http_request_duration_seconds_count", ["route": route], h.count)
            }
            out.family("quiver_http_requests_in_flight", "gauge", "Requests being handled now.")
            out.sample("quiver_http_requests_in_flight", [:], requestsInFlight)
            out.family("quiver_queue_depth", "gauge", "Inputs submitted to the engine and not answered yet (queued or running), by model.")
            for (model, n) in inputsInFlight.sorted(by: { $0.key < $1.key }) { out.sample("quiver_queue_depth", ["model": model], n) }
            out.family("quiver_embedded_inputs_total", "counter", "Inputs embedded for responses, by model.")
            for (model, n) in inputs.sorted(by: { $0.key < $1.key }) { out.sample("quiver_embedded_inputs_total", ["model": model], n) }
            out.family("quiver_tokens_total", "counter", "Tokens of the embedded inputs ([CLS]/[SEP] included), by model.")
            for (model, n) in tokens.sorted(by: { $0.key < $1.key }) { out.sample("quiver_tokens_total", ["model": model], n) }
        }
        Self.renderSchedulers(schedulers, into: &out)
        return out.text
    }

    private static func renderSchedulers(_ schedulers: [(model: String, stats: [String: SchedulerStats])], into out: inout PrometheusText) {
        let rows = schedulers.flatMap { entry in entry.stats.sorted(by: { $0.key < $1.key }).map { (["model": entry.model, "workload": $0.key], $0.value) } }
        let counters: [(String, String, (SchedulerStats) -> Int)] = [
            ("quiver_scheduler_admitted_total", "Scheduler requests (one per input) admitted to the queue.", { $0.admitted }),
            ("quiver_scheduler_completed_total", "Scheduler requests answered.", { $0.completed }),
            ("quiver_scheduler_late_total", "Answered scheduler requests that finished after their deadline.", { $0.late }),
            ("quiver_scheduler_cancelled_total", "Scheduler requests whose caller went away.", { $0.cancelled }),
            ("quiver_scheduler_failed_total", "Scheduler requests failed by the runner or by shutdown.", { $0.failed }),
            ("quiver_scheduler_batches_total", "Batches run.", { $0.batches }),
        ]
        for (name, help, value) in counters {
            out.family(name, "counter", help)
            for (labels, stats) in rows { out.sample(name, labels, value(stats)) }
        }
        out.family("quiver_scheduler_rejections_total", "counter", "Scheduler requests refused: queue full (overload) or deadline unreachable (deadline).")
        for (labels, stats) in rows {
            out.sample("quiver_scheduler_rejections_total", labels.merging(["reason": "overload"]) { $1 }, stats.rejectedOverload)
            out.sample("quiver_scheduler_rejections_total", labels.merging(["reason": "deadline"]) { $1 }, stats.rejectedDeadline)
        }
        out.family("quiver_scheduler_batch_rows", "histogram", "Rows (inputs) per batch.")
        for (labels, stats) in rows {
            for bound in batchBuckets {
                let n = stats.batchRows.filter { $0.key <= bound }.reduce(0) { $0 + $1.value }
                out.sample("quiver_scheduler_batch_rows_bucket", labels.merging(["le": String(bound)]) { $1 }, n)
            }
            out.sample("quiver_scheduler_batch_rows_bucket", labels.merging(["le": "+Inf"]) { $1 }, stats.batches)
            out.sample("quiver_scheduler_batch_rows_sum", labels, stats.batchRows.reduce(0) { $0 + $1.key * $1.value })
            out.sample("quiver_scheduler_batch_rows_count", labels, stats.batches)
        }
        let durations: [(String, String, (SchedulerStats) -> DurationSummary)] = [
            ("quiver_scheduler_queue_delay_seconds", "Wait from submission to the start of the request's batch.", { $0.queueDelay }),
            ("quiver_scheduler_batch_run_seconds", "Run time of each batch.", { $0.runTime }),
        ]
        for (name, help, value) in durations {
            out.family(name, "summary", help)
            for (labels, stats) in rows {
                let summary = value(stats)
                out.sample(name + "_sum", labels, seconds(summary.total))
                out.sample(name + "_count", labels, summary.count)
            }
        }
    }

    private static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

/// Builds Prometheus text: `# HELP` / `# TYPE` lines, then samples with escaped label values.
struct PrometheusText {
    private(set) var text = ""

    mutating func family(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Int) { line(name, labels, String(value)) }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) { line(name, labels, String(value)) }

    private mutating func line(_ name: String, _ labels: [String: String], _ value: String) {
        let order = ["model", "workload", "route", "status", "reason", "le"]
        let keys = labels.keys.sorted { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }
        let body = keys.map { "\($0)=\"\(Self.escape(labels[$0]!))\"" }.joined(separator: ",")
        text += body.isEmpty ? "\(name) \(value)\n" : "\(name){\(body)} \(value)\n"
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
