/// A clock for tests and simulations: time stands still until the owner moves it with
/// `advance(to:)` / `advance(by:)`, which resumes the sleepers that are due, earliest deadline
/// first (ties in the order they went to sleep).
///
/// A task woken by `advance(to:)` reads `now` when it next runs, so it sees the time the clock
/// was moved to, not its own deadline. To observe each wake-up at its exact instant, step with
/// `advanceToNextWakeUp()` and let the woken work settle before the next step.
public final class VirtualClock: SchedulerClock, Sendable {
    private struct Sleeper {
        var id: UInt64
        var deadline: SchedulerInstant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: SchedulerInstant
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
    }

    private let state: Locked<State>

    public init(start: SchedulerInstant = .zero) {
        state = Locked(State(now: start))
    }

    public var now: SchedulerInstant { state.withLock { $0.now } }

    /// Deadlines of the tasks sleeping on this clock, earliest first.
    public var sleeperDeadlines: [SchedulerInstant] {
        state.withLock { $0.sleepers.map(\.deadline) }.sorted()
    }

    /// The earliest deadline anyone sleeps until, or nil when nobody sleeps.
    public var nextWakeUp: SchedulerInstant? { sleeperDeadlines.first }

    public func sleep(until deadline: SchedulerInstant) async throws {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Checked under the lock so a cancellation that lands before we register is not lost.
                let immediate: Result<Void, any Error>? = state.withLock { s in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= s.now { return .success(()) }
                    s.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> Sleeper? in
                guard let index = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return s.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward to `instant` (never backwards) and resumes every sleeper whose
    /// deadline is at or before it.
    public func advance(to instant: SchedulerInstant) {
        let due = state.withLock { s -> [Sleeper] in
            s.now = max(s.now, instant)
            let now = s.now
            let due = s.sleepers.filter { $0.deadline <= now }
            s.sleepers.removeAll { $0.deadline <= now }
            return due.sorted { ($0.deadline, $0.id) < ($1.deadline, $1.id) }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves time forward by `duration`.
    public func advance(by duration: Duration) {
        advance(to: now + duration)
    }

    /// Moves time to the earliest sleeper's deadline and wakes it (and any sleeper due at the
    /// same instant). Returns the new time, or nil (time unchanged) when nobody sleeps.
    @discardableResult
    public func advanceToNextWakeUp() -> SchedulerInstant? {
        guard let next = nextWakeUp else { return nil }
        advance(to: next)
        return next
    }
}
