import Foundation

/// How one benchmark request ended.
public enum BenchOutcome: Sendable, Equatable {
    case ok
    /// Refused because the queue was full (HTTP 429/503).
    case overloaded
    /// Refused or dropped because it could not meet its deadline (HTTP 504/408).
    case deadline
    /// Any other error, with its message.
    case failed(String)
}

/// Something `quiver bench` sends requests to: the in-process `Engine` or an HTTP endpoint.
public protocol BenchTarget: Sendable {
    /// Sends one request and waits for its answer; never throws (errors become outcomes).
    func send(_ request: BenchRequest) async -> BenchOutcome
    /// Scheduler counters per batcher, when the target can see them (in-process); else empty.
    func schedulerStats() async -> [String: SchedulerStats]
    /// Releases the target (stops an engine's batchers).
    func close() async
    /// Where the load generator should run its tasks (nil, the default: the global pool).
    var preferredExecutor: (any TaskExecutor)? { get }
}

extension BenchTarget {
    public var preferredExecutor: (any TaskExecutor)? { nil }
}

/// The in-process `Engine` as a benchmark target.
public struct EngineTarget: BenchTarget {
    public let engine: Engine
    /// Per-request deadline passed to the engine (nil: the policy's default).
    public let timeout: Duration?

    public init(engine: Engine, timeout: Duration? = nil) {
        self.engine = engine
        self.timeout = timeout
    }

    public func send(_ request: BenchRequest) async -> BenchOutcome {
        do {
            switch request {
            case let .embed(text):
                _ = try await engine.embed([text], timeout: timeout)
            case let .search(text, k):
                _ = try await engine.search(text: text, k: k, timeout: timeout)
            case let .recommend(history, k):
                _ = try await engine.recommend(history: history.map { Engine.HistoryItem(item: $0) }, k: k, timeout: timeout)
            }
            return .ok
        } catch {
            return Self.outcome(of: error)
        }
    }

    public func schedulerStats() async -> [String: SchedulerStats] { await engine.stats() }

    public func close() async { await engine.shutdown() }

    /// Maps the scheduler's refusals to their outcomes; anything else is a failure.
    public static func outcome(of error: any Error) -> BenchOutcome {
        switch error {
        case SchedulerError.overloaded: .overloaded
        case SchedulerError.deadlineExceeded: .deadline
        default: .failed(String(describing: error))
        }
    }

    /// Items a recommend workload can use: the catalog's ids, else its rows as text.
    public var catalogItems: [String] {
        guard let catalog = engine.catalog else { return [] }
        return catalog.ids ?? (0..<catalog.rows).map(String.init)
    }
}
