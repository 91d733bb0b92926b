import Foundation
import QuiverCore
import QuiverOpenCL
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
                var rng = SeededRandom(UInt64(100 + worker))
                let (m, n, k) = (9 + worker, 17, 23)
                let a = rng.floats(m * k), b = rng.floats(n * k)
                for round in 0..<5 {
                    let c = try be.buffer([m, n], .f32)
                    try be.gemm(try be.upload([m, k], a), try be.upload([n, k], b), transposeB: true, bias: nil,
                                activation: .identity, into: c)
                    try be.softmax(c, mask: nil, into: c)
                    let got = try be.floats(c)
                    let logits = Ref.gemm(a, b, m: m, n: n, k: k, transposeB: true, bias: nil, .identity).map(Float.init)
                    let want = Ref.softmax(logits, mask: nil, n: n, rowsPerBatch: 1)
                    let worst = zip(got, want).map { abs(Double($0) - $1) }.max() ?? 0
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
