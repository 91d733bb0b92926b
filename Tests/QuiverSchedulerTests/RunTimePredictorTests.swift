import Testing
@testable import QuiverScheduler

@Suite struct RunTimePredictorTests {
    let fast = RunTimeModel(fixed: .milliseconds(4), perUnit: .microseconds(500))

    @Test func modelIsLinearInCost() {
        #expect(fast.predict(cost: 0) == .milliseconds(4))
        #expect(fast.predict(cost: 10) == .milliseconds(9))
        #expect(fast.predict(cost: 10, scale: 1.5) == .microseconds(13_500))
        #expect(fast.predict(cost: -3) == .milliseconds(4), "negative costs count as zero")
    }

    @Test func startsFromTheInitialModel() {
        let predictor = RunTimePredictor(initial: fast, referenceCost: 64, decay: 0.8)
        #expect(predictor.model == fast)
        #expect(predictor.predict(cost: 32) == .milliseconds(20))
    }

    @Test func learnsTheRunnersLineFromVariedBatches() {
        // The initial guess is far off; the runner really takes 1 ms + 2 ms per unit.
        let truth = RunTimeModel(fixed: .milliseconds(1), perUnit: .milliseconds(2))
        var predictor = RunTimePredictor(initial: fast, referenceCost: 64, decay: 0.8)
        for step in 0..<30 {
            let cost = [3, 17, 40, 64, 9][step % 5]
            predictor.observe(cost: cost, runTime: truth.predict(cost: cost))
        }
        // Within the observed costs the data outweighs the initial model's shape.
        for cost in [3, 9, 20, 40, 64] {
            let predicted = predictor.predict(cost: cost).nanoseconds
            let actual = truth.predict(cost: cost).nanoseconds
            #expect(abs(predicted - actual) < 0.02 * actual, "cost \(cost): \(predicted) ns vs \(actual) ns")
        }
    }

    @Test func followsASlowdownAndARecovery() {
        let slow = RunTimeModel(fixed: .milliseconds(12), perUnit: .microseconds(1500))
        var predictor = RunTimePredictor(initial: fast, referenceCost: 64, decay: 0.8)
        func feed(_ truth: RunTimeModel, batches: Int) {
            for step in 0..<batches {
                let cost = [8, 16, 24][step % 3]
                predictor.observe(cost: cost, runTime: truth.predict(cost: cost))
            }
        }
        feed(fast, batches: 20)
        feed(slow, batches: 1)
        #expect(predictor.predict(cost: 16) < slow.predict(cost: 16), "one slow batch is not enough to trust")
        feed(slow, batches: 24)
        let slowError = abs(predictor.predict(cost: 16).nanoseconds - slow.predict(cost: 16).nanoseconds)
        #expect(slowError < 0.02 * slow.predict(cost: 16).nanoseconds)
        feed(fast, batches: 25)
        let fastError = abs(predictor.predict(cost: 16).nanoseconds - fast.predict(cost: 16).nanoseconds)
        #expect(fastError < 0.02 * fast.predict(cost: 16).nanoseconds)
    }

    @Test func sameCostBatchesScaleTheInitialShape() {
        // Every batch costs 32 and takes 60 ms, three times the initial 20 ms: the whole line
        // triples, so other costs are predicted in proportion.
        var predictor = RunTimePredictor(initial: fast, referenceCost: 64, decay: 0.8)
        for _ in 0..<40 { predictor.observe(cost: 32, runTime: .milliseconds(60)) }
        for (cost, expected) in [(32, 60e6), (8, 24e6), (64, 108e6)] {
            let error = abs(predictor.predict(cost: cost).nanoseconds - expected)
            #expect(error < 0.01 * expected, "cost \(cost)")
        }
    }

    @Test func neverPredictsANegativeSlope() {
        var predictor = RunTimePredictor(initial: fast, referenceCost: 64, decay: 0.5)
        for _ in 0..<20 {
            predictor.observe(cost: 1, runTime: .milliseconds(30))
            predictor.observe(cost: 60, runTime: .milliseconds(5))
        }
        #expect(predictor.model.perUnit >= .zero)
        #expect(predictor.predict(cost: 60) >= predictor.predict(cost: 1))
    }
}

@Suite struct BatchCapTests {
    @Test func backsOffOnLateBatchesAndRecoversOnTimelyOnes() {
        var cap = BatchCap(floor: 4, ceiling: 64)
        #expect(cap.value == 64)
        cap.batchWasLate()
        #expect(cap.value == 48)
        for _ in 0..<20 { cap.batchWasLate() }
        #expect(cap.value == 4, "never below the floor")
        cap.batchWasOnTime()
        #expect(cap.value == 8, "recovers by ceiling / 16")
        for _ in 0..<20 { cap.batchWasOnTime() }
        #expect(cap.value == 64, "never above the ceiling")
    }
}
