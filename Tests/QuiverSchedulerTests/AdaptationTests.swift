import Testing
@testable import QuiverScheduler

/// A steady stream of requests while the runner slows down to half speed and recovers: the
/// predictor follows, the cap backs off while batches run late, and both come back.
@Suite struct AdaptationTests {
    let fast = RunTimeModel(fixed: .milliseconds(4), perUnit: .milliseconds(1))
    let slow = RunTimeModel(fixed: .milliseconds(8), perUnit: .milliseconds(2))

    /// What one phase of the run looked like.
    struct Phase {
        var lateAtStart = 0, lateAtMiddle = 0, lateAtEnd = 0
        var minCap = Int.max, endCap = 0
        /// Relative error of the prediction for the batches this load forms (6 rows), at the end.
        var predictionError = 0.0
    }

    @Test func predictorAndCapFollowASlowdownAndARecovery() async throws {
        let rig = Rig(latencyTarget: .milliseconds(40), maxBatchCost: 32, minBatchCost: 2, queueCapacity: 256,
                      headroom: 0.1, latency: fast)
        var tasks: [Task<Int, any Error>] = []
        var phases: [Phase] = []
        // 200 requests/s, two every 10 ms: 0.5 s fast, 0.5 s at half speed, 0.5 s fast again.
        for (index, truth) in [fast, slow, fast].enumerated() {
            rig.runner.setLatency(truth)
            var phase = Phase(lateAtStart: await rig.batcher.stats.late)
            for tick in 0..<50 {
                try await rig.run(until: ms(Double(index * 500 + tick * 10)))
                if tick == 25 { phase.lateAtMiddle = await rig.batcher.stats.late }
                for _ in 0..<2 { tasks.append(try await rig.submit(Job(id: tasks.count))) }
                phase.minCap = min(phase.minCap, await rig.batcher.state.batchCap)
            }
            try await rig.run(until: ms(Double(index * 500 + 500)))
            phase.lateAtEnd = await rig.batcher.stats.late
            phase.endCap = await rig.batcher.state.batchCap
            let predicted = await rig.batcher.predictedRunTime(cost: 6).nanoseconds
            phase.predictionError = abs(predicted - truth.predict(cost: 6).nanoseconds) / truth.predict(cost: 6).nanoseconds
            phases.append(phase)
        }
        try await rig.drain()
        for (id, task) in tasks.enumerated() { #expect(try await task.value == id * 10) }

        let (before, slowed, recovered) = (phases[0], phases[1], phases[2])
        #expect(before.lateAtEnd == 0 && before.minCap == 32 && before.predictionError < 0.01)
        #expect(slowed.lateAtMiddle > slowed.lateAtStart, "the slowdown makes the first slow batches late")
        #expect(slowed.minCap < 32, "the cap backs off while batches run late")
        #expect(slowed.lateAtEnd == slowed.lateAtMiddle, "no late batch once the predictor has caught up")
        #expect(slowed.predictionError < 0.05, "predictor follows the slower runner: \(slowed.predictionError)")
        #expect(recovered.lateAtEnd == recovered.lateAtStart, "speeding up never makes anything late")
        #expect(recovered.endCap == 32, "the cap recovers fully")
        #expect(recovered.predictionError < 0.05, "predictor follows the faster runner: \(recovered.predictionError)")
        let stats = await rig.batcher.stats
        #expect(stats.completed == 300 && stats.rejected == 0)
    }
}
