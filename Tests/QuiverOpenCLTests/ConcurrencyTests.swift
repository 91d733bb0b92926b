import Foundation
import QuiverCore
import QuiverOpenCL
import QuiverTestSupport
import Testing

@Suite struct ConcurrencyTests {
    /// Several threads share one backend (queue, program cache, kernel objects) and each gets
    /// its own correct result: kernel arguments must not leak between concurrent launches.
    @Test func concurrentOpsOnOneBackend() throws {
        guard let be = try TestDevice.backend() else { return }
        let failures = NSLock()
        nonisolated(unsafe) var messages: [String] = []
        DispatchQueue.concurrentPerform(iterations: 6) { worker in
            do {
                var rng = SeededRandom(seed: UInt64(100 + worker))
                let (m, n, k) = (9 + worker, 17, 23)
                let a = rng.floats(m * k), b = rng.floats(n * k)
                for round in 0..<5 {
                    let c = try be.buffer([m, n], .f32)
                    try be.gemm(try be.f32([m, k], a), try be.f32([n, k], b), transposeB: true, bias: nil,
                                activation: .identity, into: c)
                    try be.softmax(c, mask: nil, into: c)
                    let got = try be.values(c)
                    // The reference softmax reads the logits rounded to float, as the device does.
                    let logits = Reference.gemm(a.doubles, b.doubles, m: m, n: n, k: k, transposeB: true, bias: nil,
                                                activation: "identity").map { Double(Float($0)) }
                    let want = Reference.softmax(logits, mask: nil, b: m, r: 1, n: n)
                    let worst = Compare.maxAbsoluteError(got, want)
                    if worst > 1e-5 {
                        failures.withLock { messages.append("worker \(worker) round \(round): max error \(worst)") }
                    }
                }
            } catch {
                failures.withLock { messages.append("worker \(worker): \(error)") }
            }
        }
        #expect(messages.isEmpty, "\(messages)")
    }
}
