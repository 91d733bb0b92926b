/// The time source of a `DynamicBatcher`: real time in production, `VirtualClock` in tests.
public protocol SchedulerClock: Sendable {
    /// The current instant.
    var now: SchedulerInstant { get }

    /// Suspends until `deadline` (returns at once if it has passed).
    /// Throws `CancellationError` when the calling task is cancelled while it waits.
    func sleep(until deadline: SchedulerInstant) async throws
}

/// Real time: `ContinuousClock` (monotonic, keeps counting while the machine sleeps), measured
/// from the moment this clock was created.
public struct ContinuousSchedulerClock: SchedulerClock {
    private let origin: ContinuousClock.Instant

    public init() { origin = .now }

    public var now: SchedulerInstant { SchedulerInstant(origin.duration(to: .now)) }

    public func sleep(until deadline: SchedulerInstant) async throws {
        try await ContinuousClock().sleep(until: origin + deadline.offset, tolerance: nil)
    }
}
