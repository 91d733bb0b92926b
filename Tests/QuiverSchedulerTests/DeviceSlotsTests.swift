import Testing
@testable import QuiverScheduler

/// Batches running side by side (`deviceSlots` > 1) on a virtual clock; the fake runner takes
/// 10 ms + 1 ms per cost unit whatever else runs.
@Suite struct DeviceSlotsTests {
    typealias Record = FakeRunner.Record

    @Test func sloStartsABatchOnAFreeSlotAtOnceAndWaitsForTheFirstSlotThatFrees() async throws {
        let rig = Rig(latencyTarget: .milliseconds(100), deviceSlots: 2)
        let first = try await rig.submit(Job(id: 1))                        // slot A: 0…11 ms
        try await rig.run(until: ms(5))
        let second = try await rig.submit(Job(id: 2))                       // slot B: 5…16 ms
        #expect(await rig.batcher.state.runningBatches == 2)
        try await rig.run(until: ms(6))
        let third = try await rig.submit(Job(id: 3)), fourth = try await rig.submit(Job(id: 4))
        #expect(await rig.batcher.state.nextWakeUp == ms(11), "both slots busy: the next batch closes when A frees")
        try await rig.drain()
        #expect(rig.runner.records == [Record(start: ms(0), ids: [1], cost: 1), Record(start: ms(5), ids: [2], cost: 1),
                                       Record(start: ms(11), ids: [3, 4], cost: 2)])
        let values = [try await first.value, try await second.value, try await third.value, try await fourth.value]
        #expect(values == [10, 20, 30, 40])
        let stats = await rig.batcher.stats
        #expect(stats.latency.max == .milliseconds(17), "3 and 4 arrived at 6 ms, done at 23 ms")
        #expect(stats.batches == 3 && stats.completed == 4 && stats.late == 0)
    }

    @Test(arguments: [1, 2, 3])
    func noneKeepsEverySlotBusy(slots: Int) async throws {
        let rig = Rig(policy: .none, deviceSlots: slots)
        var tasks: [Task<Int, any Error>] = []
        for id in 0..<6 { tasks.append(try await rig.submit(Job(id: id))) }
        #expect(await rig.batcher.state.runningBatches == slots)
        try await rig.drain()
        // Request i starts in round i / slots, each round 11 ms.
        let expected = (0..<6).map { Record(start: ms(Double(11 * ($0 / slots))), ids: [$0], cost: 1) }
        #expect(rig.runner.records.sorted { ($0.start, $0.ids[0]) < ($1.start, $1.ids[0]) } == expected)
        for (id, task) in tasks.enumerated() { #expect(try await task.value == id * 10) }
        #expect(rig.clock.now == ms(Double(11 * ((6 + slots - 1) / slots))))
    }

    @Test func admissionCountsOnTheSlotThatFreesFirst() async throws {
        let rig = Rig(latencyTarget: .milliseconds(100), deviceSlots: 2)
        _ = try await rig.submit(Job(id: 0, units: 10))                     // slot A: 0…20 ms
        _ = try await rig.submit(Job(id: 1))                                // slot B: 0…11 ms
        let tooTight = try await rig.submit(Job(id: 2), deadline: ms(21))   // B frees at 11, +11 = 22
        let fits = try await rig.submit(Job(id: 3), deadline: ms(22))
        #expect(await thrownError(tooTight) is SchedulerError)
        try await rig.drain()
        #expect(try await fits.value == 30)
        #expect(rig.runner.records.last == Record(start: ms(11), ids: [3], cost: 1))
        let stats = await rig.batcher.stats
        #expect(stats.rejectedDeadline == 1 && stats.late == 0)
    }
}
