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

    @Test func sloWaitsUntilTheLastStartThatMeetsTheDeadline() {
        // One request, deadline 50 ms, predicted 11 ms alone: latest start 39 ms.
        let one = queue(request(1))
        #expect(slo().decide(one, now: ms(0), start: ms(0), cap: 64, model: model) == .wait(until: ms(39)))
        // A second request grows the batch to 12 ms: the same head must now start by 38 ms.
        let two = queue(request(1), request(2, at: 5, deadline: 55))
        #expect(slo().decide(two, now: ms(5), start: ms(5), cap: 64, model: model) == .wait(until: ms(38)))
        #expect(slo().decide(two, now: ms(38), start: ms(38), cap: 64, model: model) == .dispatch([1, 2]))
        // Headroom plans with 12 ms × 1.5 = 18 ms.
        #expect(slo(headroom: 0.5).decide(two, now: ms(5), start: ms(5), cap: 64, model: model) == .wait(until: ms(32)))
    }

    @Test func sloDispatchesAtOnceWhenTheBudgetIsFull() {
        let q = queue(request(1), request(2), request(3), request(4), request(5))
        #expect(slo().decide(q, now: ms(0), start: ms(0), cap: 4, model: model) == .dispatch([1, 2, 3, 4]))
        let exact = queue(request(1), request(2))
        #expect(slo().decide(exact, now: ms(0), start: ms(0), cap: 2, model: model) == .dispatch([1, 2]))
    }

    @Test func sloBudgetCountsPaddedTokens() {
        // 2 rows padded to 8 units = 16 ≤ 16; a third row would make 24.
        let q = queue(request(1, units: 2), request(2, units: 8), request(3, units: 1))
        #expect(slo().decide(q, now: ms(0), start: ms(0), cap: 16, model: model) == .dispatch([1, 2]))
        #expect(BatchPlanner.prefixCosts(q.items) == [2, 16, 24])
    }

    @Test func sloCutsALateBatchToWhatStillFits() {
        // The device is busy until 40 ms; deadline 52 ms. Three rows (13 ms) would end at 53 ms,
        // two (12 ms) end exactly at 52 ms.
        let q = queue(request(1, deadline: 52), request(2, deadline: 60), request(3, deadline: 60))
        #expect(slo().decide(q, now: ms(10), start: ms(40), cap: 64, model: model) == .dispatch([1, 2]))
        // Nothing fits: the head still goes alone (the batcher sheds it if even that is hopeless).
        let hopeless = queue(request(1, deadline: 45), request(2, deadline: 60))
        #expect(slo().decide(hopeless, now: ms(10), start: ms(40), cap: 64, model: model) == .dispatch([1]))
    }

    @Test func sloKeepsBucketsApartAndPlansThemBackToBack() {
        // Bucket 0: 2 rows × 5 units = 10 → 20 ms; bucket 1: 2 rows × 30 units = 60 → 70 ms.
        let q = queue(request(1, deadline: 200, units: 4, bucket: 0), request(2, deadline: 200, units: 30, bucket: 1),
                      request(3, deadline: 200, units: 5, bucket: 0), request(4, deadline: 200, units: 28, bucket: 1))
        // Bucket 1 must start by 130 ms, so bucket 0 (first by id) must start by 110 ms.
        #expect(slo().decide(q, now: ms(0), start: ms(0), cap: 64, model: model) == .wait(until: ms(110)))
        #expect(slo().decide(q, now: ms(110), start: ms(110), cap: 64, model: model) == .dispatch([1, 3]))
    }

    @Test func sloLetsAFullBucketJumpAheadOnlyWhenTheUrgentOneCanWait() {
        // Bucket 0 holds one urgent row (deadline 60 → latest start 49); bucket 1 is full (cap 4).
        let q = queue(request(1, deadline: 60, bucket: 0), request(2, deadline: 100, bucket: 1), request(3, deadline: 100, bucket: 1),
                      request(4, deadline: 100, bucket: 1), request(5, deadline: 100, bucket: 1))
        // Running bucket 1 first (14 ms) still lets bucket 0 start by 49 ms.
        #expect(slo().decide(q, now: ms(0), start: ms(0), cap: 4, model: model) == .dispatch([2, 3, 4, 5]))
        // At 40 ms it would not (40 + 14 > 49): the urgent bucket goes first.
        #expect(slo().decide(q, now: ms(40), start: ms(40), cap: 4, model: model) == .dispatch([1]))
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
