import Foundation
import QuiverCore
import QuiverCPU
import QuiverTestSupport
import Testing

@Suite struct AttentionTests {
    @Test(arguments: [(1, 1, 1, 1), (2, 7, 3, 5), (3, 33, 2, 16), (2, 129, 4, 8), (1, 70, 1, 8)])
    func matchesDirectLoopWithPaddedKeys(b: Int, s: Int, heads: Int, d: Int) throws {
        var rng = SeededRandom(seed: UInt64(b * 1000 + s * 10 + heads))
        let n = b * s * heads * d
        let q = rng.floats(n, in: -2...2), k = rng.floats(n, in: -2...2), v = rng.floats(n)
        var mask = [Int32](repeating: 1, count: b * s)
        if b > 1 {
            for t in (s / 2)..<s { mask[t] = 0 }  // batch 0: padded tail
            for t in 0..<s { mask[s + t] = t % 3 == 1 ? 0 : 1 }  // batch 1: holes
        }
        if b > 2 { for t in 0..<s { mask[2 * s + t] = 0 } }  // batch 2: nothing kept
        let shape: Shape = [b, s, heads * d]
        let (tq, tk, tv) = (try backend.f32(shape, q), try backend.f32(shape, k), try backend.f32(shape, v))
        let tm = try backend.i32([b, s], mask), out = try backend.buffer(shape, .f32)
        for scale in [nil, 0.3] as [Float?] {
            try backend.attention(query: tq, key: tk, value: tv, mask: tm, heads: heads, scale: scale, into: out)
            let want = Reference.attention(q: q.doubles, k: k.doubles, v: v.doubles, mask: mask, b: b, s: s, heads: heads, d: d,
                                           scale: Double(scale ?? 1 / Float(d).squareRoot()))
            expectClose(try backend.values(out), want, rtol: 1e-4, atol: 1e-5, "b\(b) s\(s) heads\(heads) d\(d) scale \(String(describing: scale))")
        }
        if b > 2 { #expect(try backend.values(out)[(2 * s * heads * d)...].allSatisfy { $0 == 0 }) }
    }

    /// Attention runs OpenBLAS single-threaded inside its own tasks while a concurrent gemm wants
    /// OpenBLAS threads: both must still give the right numbers.
    @Test func concurrentGemmAndAttentionStayCorrect() async throws {
        var rng = SeededRandom(seed: 99)
        let (b, s, heads, d) = (2, 40, 4, 8)
        let n = b * s * heads * d
        let q = rng.floats(n), k = rng.floats(n), v = rng.floats(n), mask = [Int32](repeating: 1, count: b * s)
        let shape: Shape = [b, s, heads * d]
        let (tq, tk, tv, tm) = (try backend.f32(shape, q), try backend.f32(shape, k), try backend.f32(shape, v), try backend.i32([b, s], mask))
        let want = Reference.attention(q: q.doubles, k: k.doubles, v: v.doubles, mask: mask, b: b, s: s, heads: heads, d: d,
                                       scale: 1 / Double(d).squareRoot())
        let a = rng.floats(200 * 150), w = rng.floats(150 * 120)
        let (ta, tw) = (try backend.f32([200, 150], a), try backend.f32([150, 120], w))
        let gemmWant = Reference.gemm(a.doubles, w.doubles, m: 200, n: 120, k: 150, transposeB: false, bias: nil,
                                      activation: "identity")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<4 {
                group.addTask {
                    for _ in 0..<5 {
                        if task % 2 == 0 {
                            let out = try backend.buffer(shape, .f32)
                            try backend.attention(query: tq, key: tk, value: tv, mask: tm, heads: heads, scale: nil, into: out)
                            expectClose(try backend.values(out), want, rtol: 1e-4, atol: 1e-5, "attention")
                        } else {
                            let c = try backend.buffer([200, 120], .f32)
                            try backend.gemm(ta, tw, transposeB: false, bias: nil, activation: .identity, into: c)
                            expectClose(try backend.values(c), gemmWant, rtol: 1e-5, atol: 1e-5, "gemm")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func rejectsBadHeadsAndMask() throws {
        let x = try backend.buffer([2, 3, 8], .f32), out = try backend.buffer([2, 3, 8], .f32)
        #expect(throws: QuiverError.self) {
            try backend.attention(query: x, key: x, value: x, mask: try backend.buffer([2, 3], .i32), heads: 3, scale: nil, into: out)
        }
        let error = #expect(throws: QuiverError.self) {
            try backend.attention(query: x, key: x, value: x, mask: try backend.buffer([3, 2], .i32), heads: 2, scale: nil, into: out)
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("[3, 2]"))
    }
}
