/// A point in time on a `SchedulerClock`: the time elapsed since that clock's origin.
///
/// Instants from different clocks do not compare meaningfully; deadlines passed to a
/// `DynamicBatcher` must come from its own `clock` (`batcher.clock.now + timeout`).
public struct SchedulerInstant: InstantProtocol, CustomStringConvertible {
    /// Time since the clock's origin.
    public var offset: Duration

    public init(_ offset: Duration) { self.offset = offset }

    /// The clock's origin.
    public static let zero = SchedulerInstant(.zero)

    public func advanced(by duration: Duration) -> SchedulerInstant { SchedulerInstant(offset + duration) }

    public func duration(to other: SchedulerInstant) -> Duration { other.offset - offset }

    public static func < (lhs: SchedulerInstant, rhs: SchedulerInstant) -> Bool { lhs.offset < rhs.offset }

    public static func + (lhs: SchedulerInstant, rhs: Duration) -> SchedulerInstant { SchedulerInstant(lhs.offset + rhs) }

    public static func - (lhs: SchedulerInstant, rhs: Duration) -> SchedulerInstant { SchedulerInstant(lhs.offset - rhs) }

    /// The time from `rhs` to `lhs`.
    public static func - (lhs: SchedulerInstant, rhs: SchedulerInstant) -> Duration { lhs.offset - rhs.offset }

    public var description: String { "t+\(offset)" }
}
