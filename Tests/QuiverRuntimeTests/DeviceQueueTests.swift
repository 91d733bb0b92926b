import Foundation
import Testing
@testable import QuiverRuntime

/// `DeviceQueue` runs at most `slots` pieces of work at once, and with 2 slots really runs two.
@Suite struct DeviceQueueTests {
    /// Counts the work running at the same time.
    final class Overlap: @unchecked Sendable {
        private let lock = DispatchSemaphore(value: 1)
        private var now = 0
        private(set) var most = 0
        func enter() { lock.wait(); now += 1; most = max(most, now); lock.signal() }
        func leave() { lock.wait(); now -= 1; lock.signal() }
    }

    @Test(arguments: [1, 2, 3])
    func neverMoreThanItsSlotsAtOnce(slots: Int) async throws {
        let queue = DeviceQueue(slots: slots), overlap = Overlap()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    try await queue.run {
                        overlap.enter()
                        defer { overlap.leave() }
                        usleep(3_000)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(overlap.most <= slots)
    }

    /// Two pieces that each wait for the other: they finish only if both run at once.
    @Test func twoSlotsRunTwoPiecesTogether() async throws {
        let queue = DeviceQueue(slots: 2)
        let first = DispatchSemaphore(value: 0), second = DispatchSemaphore(value: 0)
        async let a: Bool = queue.run { second.signal(); return first.wait(timeout: .now() + 10) == .success }
        async let b: Bool = queue.run { first.signal(); return second.wait(timeout: .now() + 10) == .success }
        let (metA, metB) = try await (a, b)
        #expect(metA && metB)
    }
}
