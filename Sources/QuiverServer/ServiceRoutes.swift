import Foundation
import Hummingbird
import QuiverRuntime

/// Operations routes: `GET /health`, `GET /info`, `GET /metrics`.
enum ServiceRoutes {
    /// `GET /info`: TEI's fields for the default model, then Quiver's: every served model with
    /// its device and catalog, and the server's limits.
    struct Info: Encodable {
        var modelId: String
        var modelDtype = "float32"
        var maxConcurrentRequests: Int
        var maxInputLength: Int?
        var maxBatchTokens: Int
        var maxClientBatchSize: Int
        var autoTruncate: Bool
        var version = QuiverServer.version
        var models: [Model]
        var limits: Limits

        enum CodingKeys: String, CodingKey {
            case modelId = "model_id", modelDtype = "model_dtype", maxConcurrentRequests = "max_concurrent_requests"
            case maxInputLength = "max_input_length", maxBatchTokens = "max_batch_tokens"
            case maxClientBatchSize = "max_client_batch_size", autoTruncate = "auto_truncate", version, models, limits
        }

        struct Model: Encodable {
            var name: String
            var dimension: Int?
            var maxTokens: Int?
            var normalized: Bool
            var backend: String
            var device: String
            var policy: String
            var latencyTargetMs: Double
            var queueCapacity: Int
            var catalog: CatalogInfo?

            enum CodingKeys: String, CodingKey {
                case name, dimension, normalized, backend, device, policy, catalog
                case maxTokens = "max_tokens", latencyTargetMs = "latency_target_ms", queueCapacity = "queue_capacity"
            }
        }

        struct CatalogInfo: Encodable {
            var items: Int
            var dimension: Int
            var dtype: String
            var metric: String
            var hasIds: Bool
            enum CodingKeys: String, CodingKey { case items, dimension, dtype, metric, hasIds = "has_ids" }
        }

        struct Limits: Encodable {
            var maxBodyBytes: Int
            var maxInputs: Int
            var maxK: Int
            var requestTimeoutMs: Double?
            var authRequired: Bool
            enum CodingKeys: String, CodingKey {
                case maxBodyBytes = "max_body_bytes", maxInputs = "max_inputs", maxK = "max_k"
                case requestTimeoutMs = "request_timeout_ms", authRequired = "auth_required"
            }
        }
    }

    static func register(on router: Router<BasicRequestContext>, state: ServerState) {
        router.get("/health") { _, _ in
            try JSONBody.response(["status": "ok"])
        }
        router.get("/info") { _, _ in
            try JSONBody.response(info(state))
        }
        router.get("/metrics") { _, _ in
            var schedulers: [(model: String, stats: [String: SchedulerStats])] = []
            for model in state.registry.models { schedulers.append((model.name, await model.engine.stats())) }
            let text = state.metrics.render(schedulers: schedulers)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }

    static func info(_ state: ServerState) -> Info {
        let config = state.configuration
        let models = state.registry.models.map { served -> Info.Model in
            let engine = served.engine, c = engine.configuration
            let catalog = engine.catalog.map {
                Info.CatalogInfo(items: $0.rows, dimension: $0.dimension, dtype: $0.dtype.rawValue, metric: c.metric.rawValue, hasIds: $0.ids != nil)
            }
            return Info.Model(name: served.name, dimension: engine.dimension, maxTokens: engine.tokenizer?.maxLength,
                              normalized: served.normalizes, backend: engine.backend.device.backend, device: engine.backend.device.name,
                              policy: policyName(c.policy), latencyTargetMs: milliseconds(c.latencyTarget), queueCapacity: c.queueCapacity,
                              catalog: catalog)
        }
        let first = state.registry.models[0].engine
        return Info(modelId: models[0].name, maxConcurrentRequests: first.configuration.queueCapacity, maxInputLength: models[0].maxTokens,
                    maxBatchTokens: first.configuration.maxBatchTokens, maxClientBatchSize: config.maxInputs,
                    autoTruncate: config.autoTruncate, models: models,
                    limits: .init(maxBodyBytes: config.maxBodyBytes, maxInputs: config.maxInputs, maxK: TopKLists.maxK,
                                  requestTimeoutMs: config.requestTimeout.map(milliseconds), authRequired: config.apiKey != nil))
    }

    static func policyName(_ policy: BatchPolicy) -> String {
        switch policy {
        case .slo: "slo"
        case .none: "none"
        case let .window(maxBatch, maxDelay): "window(max_batch=\(maxBatch), max_delay_ms=\(milliseconds(maxDelay)))"
        }
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}
