import Testing
@testable import QuiverScheduler

/// Pure planning decisions: exact instants from the queue, the clock and the model.
@Suite struct BatchPlannerTests {
    /// 10 ms per batch + 1 ms per unit.
    let model = RunTimeModel(fixed: .milliseconds(10), perUnit: .milliseconds(1))

    func request(_ id: UInt64, at arrival: Double = 0, deadline: Double? = 50, rows: Int = 1, units: Int = 1,
                 bucket: Int? = nil) -> PendingRequest {
        PendingRequest(id: id, arrival: ms(arrival), deadline: deadline.map(ms), rows: rows, units: units, bucket: bucket)
    }

    func queue(_ requests: PendingRequest...) -> PendingQueue {
        var queue = PendingQueue()
        for request in requests { queue.insert(request) }
        return queue
    }

    func slo(headroom: Double = 0) -> BatchPlanner { BatchPlanner(policy: .slo, maxBatchCost: 64, headroom: headroom) }

    @Test func queueServesEarliestDeadlineFirstThenArrival() {
        let q = queue(request(1, deadline: 50), request(2, deadline: 30), request(3, deadline: nil), request(4, deadline: 30))
        #expect(q.items.map(\.id) == [2, 4, 1, 3])
    }

    @Test func sloDispatchesAtOnceOnAnIdleDevice() {
        #expect(slo().decide(queue(request(1)), now: ms(0), start: ms(0), cap: 64, model: model) == .dispatch([1]))
        let two = queue(request(1), request(2, at: 5, deadline: 55))
        #expect(slo().decide(two, now: ms(5), start: ms(5), cap: 64, model: model) == .dispatch([1, 2]))
    }

    @Test func sloOnABusyDeviceClosesTheNextBatchWhenTheDeviceFrees() {
        // The device is busy until 30 ms; deadlines leave room (latest start 38 ms).
        let two = queue(request(1), request(2, at: 5, deadline: 55))
        #expect(slo().decide(two, now: ms(5), start: ms(30), cap: 64, model: model) == .wait(until: ms(30)))
        #expect(slo().decide(two, now: ms(30), start: ms(30), cap: 64, model: model) == .dispatch([1, 2]))
        // With 2 ms of slack it closes 2 ms early, to be prepared when the device frees.
        let slack = BatchPlanner(policy: .slo, maxBatchCost: 64, headroom: 0, slack: .milliseconds(2))
        #expect(slack.decide(two, now: ms(5), start: ms(30), cap: 64, model: model) == .wait(until: ms(28)))
        #expect(slack.decide(two, now: ms(28), start: ms(30), cap: 64, model: model) == .dispatch([1, 2]))
    }

    @Test func sloClosesBeforeTheDeviceFreesWhenBackToBackDeadlinesRequire() {
        // Two buckets, one row each (11 ms): bucket 1 must start by 47 − 11 = 36, so bucket 0 by
        // min(45, 36) − 11 = 25, before the device frees at 30.
        let q = queue(request(1, deadline: 45, bucket: 0), request(2, deadline: 47, bucket: 1))
        #expect(slo().decide(q, now: ms(0), start: ms(30), cap: 64, model: model) == .wait(until: ms(25)))
        #expect(slo().decide(q, now: ms(25), start: ms(30), cap: 64, model: model) == .dispatch([1]))
        // Headroom plans with 11 ms × 1.5 = 16.5 ms: 47 − 16.5 − 16.5 = 14 ms.
        #expect(slo(headroom: 0.5).decide(q, now: ms(0), start: ms(30), cap: 64, model: model) == .wait(until: ms(14)))
    }

    @Test func sloClosesAFullBudgetAtOnceWhileTheDeviceIsBusy() {
        let q = queue(request(1), request(2), request(3), request(4), request(5))
        #expect(slo().decide(q, now: ms(0), start: ms(30), cap: 4, model: model) == .dispatch([1, 2, 3, 4]))
        let exact = queue(request(1), request(2))
        #expect(slo().decide(exact, now: ms(0), start: ms(30), cap: 2, model: model) == .dispatch([1, 2]))
        #expect(slo().decide(exact, now: ms(0), start: ms(30), cap: 3, model: model) == .wait(until: ms(30)))
    }

    @Test func sloBudgetCountsPaddedTokens() {
        // 2 rows padded to 8 units = 16 ≤ 16; a third row would make 24.
        let q = queue(request(1, units: 2), request(2, units: 8), request(3, units: 1))
        #expect(slo().decide(q, now: ms(0), start: ms(0), cap: 16, model: model) == .dispatch([1, 2]))
        #expect(BatchPlanner.prefixCosts(q.items) == [2, 16, 24])
    }

    @Test func sloCutsABatchToThePrefixWithTheMostRequestsOnTime() {
        // Starting at 40 ms: one row ends at 51, two at 52, three at 53.
        let q = queue(request(1, deadline: 52), request(2, deadline: 60), request(3, deadline: 60))
        // [1, 2] is all on time; [1, 2, 3] would make request 1 late: 2 on time either way, the shorter wins.
        #expect(slo().decide(q, now: ms(40), start: ms(40), cap: 64, model: model) == .dispatch([1, 2]))
        // A head that is late even alone does not cut its batch: [1, 2] gets request 2 done in time.
        let lateHead = queue(request(1, deadline: 45), request(2, deadline: 60))
        #expect(slo().decide(lateHead, now: ms(40), start: ms(40), cap: 64, model: model) == .dispatch([1, 2]))
        // Nothing can be on time: the whole backlog goes in one batch.
        let allLate = queue(request(1, deadline: 45), request(2, deadline: 46), request(3, deadline: 47))
        #expect(slo().decide(allLate, now: ms(40), start: ms(40), cap: 64, model: model) == .dispatch([1, 2, 3]))
    }

    @Test func sloKeepsBucketsApart() {
        let q = queue(request(1, deadline: 200, units: 4, bucket: 0), request(2, deadline: 200, units: 30, bucket: 1),
                      request(3, deadline: 200, units: 5, bucket: 0), request(4, deadline: 200, units: 28, bucket: 1))
        #expect(slo().decide(q, now: ms(0), start: ms(0), cap: 64, model: model) == .dispatch([1, 3]))
        let rest = queue(request(2, deadline: 200, units: 30, bucket: 1), request(4, deadline: 200, units: 28, bucket: 1))
        #expect(slo().decide(rest, now: ms(20), start: ms(20), cap: 64, model: model) == .dispatch([2, 4]))
    }

    @Test func sloLetsAFullBucketJumpAheadOnlyWhenTheUrgentOneCanWait() {
        // Bucket 0 holds one urgent row (deadline 60 → latest start 49); bucket 1 is full (cap 4, 14 ms).
        let q = queue(request(1, deadline: 60, bucket: 0), request(2, deadline: 100, bucket: 1), request(3, deadline: 100, bucket: 1),
                      request(4, deadline: 100, bucket: 1), request(5, deadline: 100, bucket: 1))
        // The device frees at 30: running bucket 1 first (to 44) still lets bucket 0 start by 49.
        #expect(slo().decide(q, now: ms(0), start: ms(30), cap: 4, model: model) == .dispatch([2, 3, 4, 5]))
        // Freeing at 40 it would not (40 + 14 > 49): the urgent bucket goes first.
        #expect(slo().decide(q, now: ms(0), start: ms(40), cap: 4, model: model) == .dispatch([1]))
    }

    @Test func noneTakesOneRequestAtATime() {
        let planner = BatchPlanner(policy: .none, maxBatchCost: 64, headroom: 0)
        let q = queue(request(1, deadline: nil), request(2, deadline: nil))
        #expect(planner.decide(q, now: ms(0), start: ms(0), cap: 64, model: model) == .dispatch([1]))
        #expect(planner.decide(PendingQueue(), now: ms(0), start: ms(0), cap: 64, model: model) == .wait(until: nil))
    }

    @Test func windowClosesAtMaxBatchOrMaxDelay() {
        let planner = BatchPlanner(policy: .window(maxBatch: 3, maxDelay: .milliseconds(5)), maxBatchCost: 64, headroom: 0)
        let two = queue(request(1, at: 2, deadline: nil), request(2, at: 3, deadline: nil))
        #expect(planner.decide(two, now: ms(3), start: ms(3), cap: 64, model: model) == .wait(until: ms(7)))
        #expect(planner.decide(two, now: ms(7), start: ms(7), cap: 64, model: model) == .dispatch([1, 2]))
        let four = queue(request(1, deadline: nil), request(2, deadline: nil), request(3, deadline: nil), request(4, deadline: nil))
        #expect(planner.decide(four, now: ms(0), start: ms(0), cap: 64, model: model) == .dispatch([1, 2, 3]))
        // The hard budget also closes a window batch: 2 rows × 40 units would be 80 > 64.
        let wide = queue(request(1, deadline: nil, units: 40), request(2, deadline: nil, units: 40))
        #expect(planner.decide(wide, now: ms(0), start: ms(0), cap: 64, model: model) == .dispatch([1]))
    }

    @Test func missInstantIsWhenRunningAloneStopsFitting() {
        let planner = slo()
        let r = request(1, deadline: 30, units: 2)  // alone: 12 ms
        #expect(planner.missInstant(r, model: model) == ms(18) + .nanoseconds(1))
        #expect(planner.predictedMiss(r, start: ms(18), model: model) == nil)
        #expect(planner.predictedMiss(r, start: ms(18) + .nanoseconds(1), model: model) == ms(30) + .nanoseconds(1))
        #expect(planner.missInstant(request(2, deadline: nil), model: model) == nil)
    }
}
