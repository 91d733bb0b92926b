import ArgumentParser
import Dispatch
import Foundation
import QuiverRuntime
import QuiverServer

/// `quiver serve`: the HTTP server (OpenAI and TEI embeddings, search, recommend, metrics).
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve embeddings (OpenAI- and TEI-compatible), search and recommend over HTTP.",
        discussion: """
            Routes: POST /v1/embeddings, GET /v1/models, POST /embed, POST /tokenize, POST /search, POST /recommend, \
            GET /health, GET /info, GET /metrics. Several models may be served at once (repeat --model; requests pick \
            one with "model"); --catalog, --ids and --tower take NAME=PATH to attach to the model served as NAME \
            (a plain PATH attaches to the first model; a NAME with no model serves a catalog alone). Models and \
            catalogs come from the command line only, never from requests. SIGTERM or SIGINT stops accepting \
            connections, lets the requests in flight finish, and exits.
            """)

    @Option(help: ArgumentHelp("Text model: [NAME=]folder, ORG/NAME in the Hugging Face cache, or cache entry (repeatable). NAME defaults to the folder name.",
                               valueName: "[name=]model"))
    var model: [String] = []
    @Option(help: ArgumentHelp("Catalog for /search and /recommend: [NAME=]file (.npy or .safetensors; repeatable).", valueName: "[name=]path"))
    var catalog: [String] = []
    @Option(help: ArgumentHelp("Item ids of a catalog, one per line: [NAME=]file (repeatable).", valueName: "[name=]path"))
    var ids: [String] = []
    @Option(help: ArgumentHelp("MLP user tower for /recommend: [NAME=]manifest (repeatable).", valueName: "[name=]path"))
    var tower: [String] = []
    @Option(help: "dot, cosine or l2 (every catalog).") var metric: Metric = .cosine
    @Option(help: "Tokens per input, [CLS]/[SEP] included (default: the model's max_seq_length).") var maxLength: Int?

    @Option(help: "Address to bind (loopback by default; 0.0.0.0 for every interface).") var host = "127.0.0.1"
    @Option(help: "Port (0 picks a free one; the chosen one is printed).") var port = 8080
    @Option(help: "Require `Authorization: Bearer KEY` on every route but /health. Default: $QUIVER_API_KEY.") var apiKey: String?

    @Option(help: "Batching policy: slo (dispatch to meet the latency target), none (one request per batch) or window (--max-batch, --max-delay).")
    var policy = "slo"
    @Option(help: "p99 latency target per request, e.g. 50ms (slo: requests that cannot meet it are shed with 503).") var latencyTarget = DurationArgument(.milliseconds(50))
    @Option(help: "window policy: requests per batch.") var maxBatch = 32
    @Option(help: "window policy: longest wait of the oldest request, e.g. 5ms.") var maxDelay = DurationArgument(.milliseconds(5))
    @Option(help: "Padded tokens per text batch.") var maxBatchTokens = 8192
    @Option(help: "Rows per MLP or search batch.") var maxBatchRows = 256
    @Option(help: "Inputs allowed to wait per batcher; more are refused with 429.") var queueCapacity = 1024
    @Option(help: ArgumentHelp("Batches run at once: auto (CPU: one single-threaded batch per core; OpenCL: 1) or a count sharing the cores.", valueName: "auto|N"))
    var concurrentBatches: String?
    @Option(help: "Deadline for each input's wait + run, e.g. 2s (default: the policy's; 503 when missed).") var requestTimeout: DurationArgument?

    @Option(help: "Largest request body in bytes (413 above).") var maxBodyBytes = 4 << 20
    @Option(help: "Most inputs per embed/tokenize request, items per recommend history (413 above).") var maxInputs = 1024
    @Flag(help: "Cut inputs longer than the max length when a request does not say `truncate` (default: 413).") var autoTruncate = false
    @OptionGroup var backendOptions: BackendOptions

    func validate() throws {
        guard !model.isEmpty || !catalog.isEmpty else { throw ValidationError("give at least one --model or --catalog") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 ... 65535") }
        _ = try batchPolicy()
        _ = try ConcurrentBatches.resolve(concurrentBatches, cores: 1)
        guard maxBodyBytes >= 1024, maxInputs >= 1, queueCapacity >= 1 else {
            throw ValidationError("--max-body-bytes must be at least 1024; --max-inputs and --queue-capacity at least 1")
        }
    }

    func run() throws {
        let concurrency = try ConcurrentBatches.resolve(concurrentBatches, cores: BackendFactory.defaultCPUThreads)
        let backend = try backendOptions.select(cpuThreads: concurrency.cpuThreads).backend
        var servedModels: [ServedModel] = []
        for (name, spec) in try plan() {
            var config = Engine.Configuration()
            (config.model, config.catalog, config.ids, config.tower) = (spec.model, spec.catalog, spec.ids, spec.tower)
            (config.metric, config.maxLength, config.policy, config.latencyTarget) = (metric, maxLength, try batchPolicy(), latencyTarget.duration)
            (config.maxBatchTokens, config.maxBatchRows, config.queueCapacity) = (maxBatchTokens, maxBatchRows, queueCapacity)
            config.concurrentBatches = concurrency.batches(on: backend)
            let engine = try Engine(configuration: config, backend: backend)
            let served = ServedModel(name: name, engine: engine)
            var line = "serving \(name):"
            if let d = engine.dimension, let t = engine.tokenizer { line += " \(d) dims, \(t.maxLength) tokens max" }
            if let c = engine.catalog { line += ", catalog of \(c.rows) × \(c.dimension) (\(metric.rawValue))" }
            Log.info(line)
            servedModels.append(served)
        }
        var settings = ServerConfiguration()
        (settings.host, settings.port, settings.maxBodyBytes, settings.maxInputs) = (host, port, maxBodyBytes, maxInputs)
        (settings.autoTruncate, settings.requestTimeout) = (autoTruncate, requestTimeout?.duration)
        settings.apiKey = apiKey ?? ProcessInfo.processInfo.environment["QUIVER_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let server = try QuiverServer(models: servedModels, configuration: settings)

        // ArgumentParser's root command is synchronous; run the server on the concurrency pool.
        let outcome = Outcome()
        let host = host, auth = settings.apiKey != nil
        Task.detached {
            do {
                try await server.run { port in
                    Log.info("listening on http://\(host):\(port)" + (auth ? " (API key required)" : ""))
                }
            } catch {
                outcome.error = error
            }
            outcome.done.signal()
        }
        outcome.done.wait()
        if let error = outcome.error { throw error }
        Log.info("stopped")
    }

    /// One engine per served name: its model, and the catalog, ids and tower attached to it.
    struct EngineSpec { var model: String?; var catalog: String?; var ids: String?; var tower: String? }

    func plan() throws -> [(String, EngineSpec)] {
        var names: [String] = [], specs: [String: EngineSpec] = [:]
        for entry in model {
            let (name, spec) = Self.split(entry)
            let served = name ?? Self.defaultName(spec)
            guard specs[served] == nil else { throw ValidationError("two models are served as \"\(served)\"; name one with --model NAME=\(spec)") }
            names.append(served)
            specs[served] = EngineSpec(model: spec)
        }
        func attach(_ entries: [String], _ set: (inout EngineSpec, String) -> Void) {
            for entry in entries {
                let (name, path) = Self.split(entry)
                let target = name ?? names.first ?? "catalog"
                if specs[target] == nil { names.append(target); specs[target] = EngineSpec() }
                set(&specs[target]!, path)
            }
        }
        attach(catalog) { $0.catalog = $1 }
        attach(ids) { $0.ids = $1 }
        attach(tower) { $0.tower = $1 }
        for name in names where specs[name]!.ids != nil && specs[name]!.catalog == nil {
            throw ValidationError("--ids for \"\(name)\" needs a --catalog for it")
        }
        return names.map { ($0, specs[$0]!) }
    }

    /// `NAME=VALUE` → (NAME, VALUE); a value with no `=` before its first `/` has no name.
    static func split(_ entry: String) -> (String?, String) {
        guard let eq = entry.firstIndex(of: "="), eq != entry.startIndex, !entry[..<eq].contains("/") else { return (nil, entry) }
        return (String(entry[..<eq]), String(entry[entry.index(after: eq)...]))
    }

    /// `models/all-MiniLM-L6-v2` and `sentence-transformers/all-MiniLM-L6-v2` → `all-MiniLM-L6-v2`;
    /// `models--ORG--NAME` → `NAME`.
    static func defaultName(_ spec: String) -> String {
        let last = URL(fileURLWithPath: spec).lastPathComponent
        return last.components(separatedBy: "--").last.flatMap { $0.isEmpty ? nil : $0 } ?? last
    }

    func batchPolicy() throws -> BatchPolicy {
        switch policy {
        case "slo": return .slo
        case "none": return .none
        case "window":
            guard maxBatch >= 1 else { throw ValidationError("--max-batch must be at least 1") }
            return .window(maxBatch: maxBatch, maxDelay: maxDelay.duration)
        default: throw ValidationError("--policy must be slo, none or window, not \(policy)")
        }
    }

    /// Where the server task leaves its result for the blocked main thread.
    final class Outcome: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var error: (any Error)?
    }
}

/// A duration flag: `50ms`, `2s`, `1.5s`, `500us`; a bare number is milliseconds.
struct DurationArgument: ExpressibleByArgument {
    var duration: Duration

    init(_ duration: Duration) { self.duration = duration }

    init?(argument: String) {
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("s", 1)]
        let text = argument.trimmingCharacters(in: .whitespaces)
        let (number, scale) = units.first { text.hasSuffix($0.0) }.map { (String(text.dropLast($0.0.count)), $0.1) } ?? (text, 1e-3)
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        duration = .nanoseconds(Int64((value * scale * 1e9).rounded()))
    }

    var defaultValueDescription: String {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return ms == ms.rounded() ? "\(Int(ms))ms" : "\(ms)ms"
    }
}
