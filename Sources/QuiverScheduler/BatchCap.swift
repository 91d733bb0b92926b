/// The adaptive cost cap of `slo` batches: additive increase, multiplicative decrease.
///
/// A batch that finishes after the deadline of one of its requests (for requests without an
/// explicit deadline: latency above the target) cuts the cap to 3/4; a batch that finishes in time
/// raises it by 1/16 of the ceiling. The cap stays within [floor, ceiling].
struct BatchCap: Sendable, Equatable {
    private(set) var value: Int
    let floor: Int
    let ceiling: Int

    init(floor: Int, ceiling: Int) {
        self.ceiling = max(1, ceiling)
        self.floor = min(max(1, floor), self.ceiling)
        value = self.ceiling
    }

    /// Additive step of the recovery.
    var step: Int { max(1, ceiling / 16) }

    mutating func batchWasLate() { value = max(floor, value * 3 / 4) }

    mutating func batchWasOnTime() { value = min(ceiling, value + step) }
}
