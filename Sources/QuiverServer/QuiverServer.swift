import Foundation
import Hummingbird
import QuiverRuntime
import ServiceLifecycle

/// What every route handler shares: the served models, the limits, the metrics.
final class ServerState: Sendable {
    let registry: ModelRegistry
    let configuration: ServerConfiguration
    let metrics = ServerMetrics()
    let embeddings: EmbeddingService

    init(registry: ModelRegistry, configuration: ServerConfiguration) {
        self.registry = registry
        self.configuration = configuration
        embeddings = EmbeddingService(configuration: configuration, metrics: metrics)
    }
}

/// The HTTP server over one or more `Engine`s (`quiver serve`): OpenAI- and TEI-compatible
/// embeddings, search and recommend over the catalog, health, info and Prometheus metrics.
///
/// Routes: `table` (OpenAI: `/v1/embeddings`, `/v1/models`; TEI: `/embed`, `/tokenize`,
/// `/decode`, …; Quiver: `/search`, `/recommend`, `/health`, `/info`, `/metrics`).
public final class QuiverServer: Sendable {
    public static let version = "0.1.0"
    /// Every route: its path and method.
    static let table: [(path: String, method: HTTPRequest.Method)] = [
        ("/v1/embeddings", .post), ("/v1/models", .get),
        ("/embed", .post), ("/embed_all", .post), ("/tokenize", .post), ("/decode", .post),
        ("/rerank", .post), ("/predict", .post), ("/embed_sparse", .post),
        ("/search", .post), ("/recommend", .post), ("/health", .get), ("/info", .get), ("/metrics", .get),
    ]
    /// The routes with their methods, for error messages.
    static let routeList = table.map { "\($0.method) \($0.path)" }.joined(separator: ", ")

    let state: ServerState

    /// - Throws: `QuiverError.invalidArgument` for no models or two with one name.
    public init(models: [ServedModel], configuration: ServerConfiguration = ServerConfiguration()) throws {
        state = ServerState(registry: try ModelRegistry(models), configuration: configuration)
    }

    public var models: [ServedModel] { state.registry.models }
    public var configuration: ServerConfiguration { state.configuration }

    /// The router with every route and middleware.
    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorAndMetricsMiddleware(metrics: state.metrics, routes: Self.table))
        if let key = state.configuration.apiKey { router.add(middleware: BearerAuthMiddleware(key: key)) }
        OpenAIRoutes.register(on: router, state: state)
        TEIRoutes.register(on: router, state: state)
        TEIHeadRoutes.register(on: router, state: state)
        CatalogRoutes.register(on: router, state: state)
        ServiceRoutes.register(on: router, state: state)
        return router
    }

    /// The Hummingbird application (tests drive it with HummingbirdTesting).
    /// `onRunning` gets the bound port once the server listens.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> Application<RouterResponder<BasicRequestContext>> {
        Application(router: router(),
                    configuration: .init(address: .hostname(state.configuration.host, port: state.configuration.port),
                                         serverName: "quiver/\(Self.version)"),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting connections, lets the requests in
    /// flight finish (the engines drain: queued work runs at once instead of waiting for fuller
    /// batches), and shuts the engines down.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let app = application(onRunning: onRunning)
        let serving = DrainingService(application: app) { [state] in
            for model in state.registry.models { await model.engine.drain() }
        }
        try await ServiceGroup(configuration: .init(services: [serving], gracefulShutdownSignals: [.sigterm, .sigint],
                                                    logger: app.logger)).run()
        await shutdown()
    }

    /// Stops every engine's batchers (queued work fails with 503).
    public func shutdown() async {
        for model in state.registry.models { await model.engine.shutdown() }
    }
}

/// Runs the HTTP application; when graceful shutdown begins it also starts `drain`, so requests
/// waiting in a batching window are answered now rather than when the window would have closed.
private struct DrainingService: Service {
    let application: Application<RouterResponder<BasicRequestContext>>
    let drain: @Sendable () async -> Void

    func run() async throws {
        let drain = drain
        try await withGracefulShutdownHandler {
            try await application.run()
        } onGracefulShutdown: {
            Task { await drain() }
        }
    }
}
