import Testing
@testable import QuiverScheduler

/// A steady stream of requests while the runner changes speed: the predictor follows, the cap
/// backs off while batches run late and recovers, and a slowdown that has passed does not leave
/// the batcher refusing work.
@Suite struct AdaptationTests {
    let fast = RunTimeModel(fixed: .milliseconds(4), perUnit: .milliseconds(1))
    let slow = RunTimeModel(fixed: .milliseconds(8), perUnit: .milliseconds(2))

    /// What one phase of the run looked like.
    struct Phase {
        var late = 0, rejected = 0, completed = 0
        var minCap = Int.max, endCap = 0
        /// Relative error of the prediction for a 3-row batch, at the end of the phase.
        var predictionError = 0.0
    }

    /// Runs `phases` (runner latency, duration) one after another with two requests every 10 ms.
    func run(_ rig: Rig, _ phases: [(RunTimeModel, Double)]) async throws -> (phases: [Phase], tasks: [Task<Int, any Error>]) {
        var tasks: [Task<Int, any Error>] = []
        var result: [Phase] = []
        var t = 0.0
        for (truth, duration) in phases {
            rig.runner.setLatency(truth)
            let before = await rig.batcher.stats
            var phase = Phase()
            let end = t + duration
            while t < end {
                try await rig.run(until: ms(t))
                for _ in 0..<2 { tasks.append(try await rig.submit(Job(id: tasks.count))) }
                phase.minCap = min(phase.minCap, await rig.batcher.state.batchCap)
                t += 10
            }
            try await rig.run(until: ms(end))
            let after = await rig.batcher.stats
            (phase.late, phase.rejected, phase.completed) = (after.late - before.late, after.rejected - before.rejected,
                                                             after.completed - before.completed)
            phase.endCap = await rig.batcher.state.batchCap
            let predicted = await rig.batcher.predictedRunTime(cost: 3).nanoseconds
            phase.predictionError = abs(predicted - truth.predict(cost: 3).nanoseconds) / truth.predict(cost: 3).nanoseconds
            result.append(phase)
        }
        try await rig.drain()
        return (result, tasks)
    }

    @Test func predictorFollowsASlowdownAndARecoveryWithoutALateRequest() async throws {
        let rig = Rig(latencyTarget: .milliseconds(40), maxBatchCost: 32, minBatchCost: 2, queueCapacity: 256,
                      headroom: 0.1, latency: fast)
        let (phases, tasks) = try await run(rig, [(fast, 500), (slow, 500), (fast, 500)])
        for (id, task) in tasks.enumerated() { #expect(try await task.value == id * 10) }
        for (index, phase) in phases.enumerated() {
            // Work-conserving: at half speed batches grow to ~3 rows and still finish within ~2 runs.
            #expect(phase.late == 0 && phase.rejected == 0, "phase \(index): \(phase)")
            #expect(phase.predictionError < 0.05, "phase \(index): the predictor follows the runner: \(phase.predictionError)")
        }
        let stats = await rig.batcher.stats
        #expect(stats.completed == 300 && stats.rejected == 0)
        #expect(stats.batchRows.keys.contains { $0 > 1 }, "the slow phase batches several requests")
    }

    @Test func capBacksOffWhileBatchesRunLateAndEverythingRecovers() async throws {
        let rig = Rig(latencyTarget: .milliseconds(40), maxBatchCost: 32, minBatchCost: 2, queueCapacity: 256,
                      headroom: 0.1, latency: fast)
        // 600 ms where every batch takes over 50 ms, longer than the 40 ms target: long enough for the
        // predictor to learn it, so only probes can bring it back.
        let stall = RunTimeModel(fixed: .milliseconds(50), perUnit: .milliseconds(1))
        let (phases, tasks) = try await run(rig, [(fast, 300), (stall, 600), (fast, 700), (fast, 300)])
        let (before, stalled, recovering, after) = (phases[0], phases[1], phases[2], phases[3])
        #expect(before.late == 0 && before.minCap == 32)
        #expect(stalled.late > 0, "the stall makes batches late")
        #expect(stalled.rejected > 0, "once learned, requests that cannot make it are refused at once")
        #expect(min(stalled.minCap, recovering.minCap) < 32, "the cap backs off while batches run late")
        #expect(recovering.completed > 0, "probes re-measure the device: work is admitted again")
        #expect(after.late == 0 && after.rejected == 0 && after.completed == 60, "fully recovered: \(after)")
        #expect(after.endCap == 32 && after.predictionError < 0.05)
        for task in tasks {
            do { _ = try await task.value } catch let error as SchedulerError {
                guard case .deadlineExceeded = error else { Issue.record("unexpected \(error)"); continue }
            }
        }
    }
}
