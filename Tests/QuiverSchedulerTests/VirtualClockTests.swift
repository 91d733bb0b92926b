import Testing
@testable import QuiverScheduler

@Suite struct VirtualClockTests {
    @Test func timeMovesOnlyWhenAdvanced() {
        let clock = VirtualClock(start: ms(3))
        #expect(clock.now == ms(3))
        clock.advance(by: .milliseconds(2))
        #expect(clock.now == ms(5))
        clock.advance(to: ms(1))
        #expect(clock.now == ms(5), "time never goes backwards")
    }

    @Test func sleepersWakeAtTheirDeadlineInDeadlineOrder() async throws {
        let clock = VirtualClock()
        let woken = Locked<[Int]>([])
        let tasks = [(1, 30.0), (2, 10.0), (3, 20.0)].map { id, at in
            Task {
                try await clock.sleep(until: ms(at))
                woken.withLock { $0.append(id) }
            }
        }
        try await waitUntil("three sleepers") { clock.sleeperDeadlines.count == 3 }
        #expect(clock.sleeperDeadlines == [ms(10), ms(20), ms(30)])

        clock.advance(to: ms(9.999))
        #expect(clock.sleeperDeadlines.count == 3, "nobody is due before 10 ms")
        #expect(clock.advanceToNextWakeUp() == ms(10))
        try await tasks[1].value
        #expect(woken.withLock { $0 } == [2])
        #expect(clock.nextWakeUp == ms(20))

        clock.advance(to: ms(100))
        for task in tasks { try await task.value }
        #expect(Set(woken.withLock { $0 }) == [1, 2, 3])
        #expect(clock.nextWakeUp == nil)
    }

    @Test func sleepUntilThePastReturnsAtOnce() async throws {
        let clock = VirtualClock(start: ms(50))
        try await clock.sleep(until: ms(50))
        try await clock.sleep(until: ms(10))
        #expect(clock.sleeperDeadlines.isEmpty)
    }

    @Test func cancellingASleeperRemovesItAndThrows() async throws {
        let clock = VirtualClock()
        let task = Task { try await clock.sleep(until: ms(10)) }
        try await waitUntil("the sleeper") { clock.sleeperDeadlines.count == 1 }
        task.cancel()
        #expect(clock.sleeperDeadlines.isEmpty, "cancellation removes the sleeper at once")
        #expect(await thrownError(task) is CancellationError)
        #expect(clock.now == .zero)
    }

    @Test func advanceToNextWakeUpWithoutSleepersKeepsTime() {
        let clock = VirtualClock(start: ms(7))
        #expect(clock.advanceToNextWakeUp() == nil)
        #expect(clock.now == ms(7))
    }
}

@Suite struct ContinuousSchedulerClockTests {
    @Test func timeNeverGoesBackAndPastDeadlinesDoNotWait() async throws {
        let clock = ContinuousSchedulerClock()
        let first = clock.now
        try await clock.sleep(until: .zero)  // the origin has passed: returns at once
        #expect(clock.now >= first)
        #expect(first >= .zero)
    }
}
