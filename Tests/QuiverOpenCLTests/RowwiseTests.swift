import QuiverCore
import QuiverOpenCL
import QuiverTestSupport
import Testing

@Suite struct RowwiseTests {
    @Test func layerNormWithAndWithoutResidual() throws {
        guard let be = try TestDevice.backend() else { return }
        var rng = SeededRandom(seed: 3)
        for (rows, h) in [(1, 1), (7, 33), (5, 384), (3, 129)] {
            let x = rng.floats(rows * h, in: -3...5), r = rng.floats(rows * h), g = rng.floats(h), b = rng.floats(h)
            let (tg, tb) = (try be.f32([h], g), try be.f32([h], b))
            for residual in [false, true] {
                let tx = try be.f32([rows, h], x), out = try be.buffer([rows, h], .f32)
                let tr = residual ? try be.f32([rows, h], r) : nil
                try be.layerNorm(tx, residual: tr, gamma: tg, beta: tb, epsilon: 1e-12, into: out)
                let want = Reference.layerNorm(x.doubles, residual: residual ? r.doubles : nil, gamma: g.doubles, beta: b.doubles,
                                               epsilon: 1e-12, h: h)
                expectClose(try be.values(out), want, "layerNorm \(rows)×\(h) residual=\(residual)")
                try be.layerNorm(tx, residual: tr, gamma: tg, beta: tb, epsilon: 1e-12, into: tx)   // in place
                expectClose(try be.values(tx), want, "layerNorm in place \(rows)×\(h) residual=\(residual)")
            }
        }
    }

    @Test func layerNormIsAccurateForLargeMeans() throws {
        guard let be = try TestDevice.backend() else { return }
        var rng = SeededRandom(seed: 4)
        let h = 256
        let x = rng.floats(h).map { 1000 + $0 }   // one-pass E[x²] - E[x]² would lose the variance
        let out = try be.buffer([1, h], .f32)
        try be.layerNorm(try be.f32([1, h], x), residual: nil, gamma: try be.f32([h], [Float](repeating: 1, count: h)),
                         beta: try be.f32([h], [Float](repeating: 0, count: h)), epsilon: 1e-5, into: out)
        let want = Reference.layerNorm(x.doubles, residual: nil, gamma: [Double](repeating: 1, count: h),
                                       beta: [Double](repeating: 0, count: h), epsilon: 1e-5, h: h)
        expectClose(try be.values(out), want, atol: 2e-3, rtol: 1e-3, "layerNorm around 1000")
    }

    @Test func maskedSoftmaxEdgeCases() throws {
        guard let be = try TestDevice.backend() else { return }
        var rng = SeededRandom(seed: 5)
        let (b, r, n) = (4, 3, 37)
        var x = rng.floats(b * r * n, in: -8...8)
        var mask = (0..<(b * n)).map { _ in Int32.random(in: 0...1, using: &rng) }
        for j in 0..<n { mask[1 * n + j] = 0 }   // batch 1: fully masked -> zeros
        mask[2 * n] = 1; mask[2 * n + 1] = 1
        x[2 * r * n] = 1e30; x[2 * r * n + 1] = -1e30                     // huge logits, no NaN
        for j in 0..<n { x[3 * r * n + j] = -.infinity; mask[3 * n + j] = 1 }   // batch 3 row 0: only -inf
        let tx = try be.f32([b, r, n], x), tm = try be.i32([b, n], mask), out = try be.buffer([b, r, n], .f32)
        try be.softmax(tx, mask: tm, into: out)
        let got = try be.values(out)
        #expect(got.allSatisfy { $0.isFinite })
        expectClose(got, Reference.softmax(x.doubles, mask: mask, b: b, r: r, n: n), atol: 1e-6, "masked softmax")
        try be.softmax(tx, mask: tm, into: tx)   // in place
        expectClose(try be.values(tx), Reference.softmax(x.doubles, mask: mask, b: b, r: r, n: n), atol: 1e-6, "softmax in place")
    }

    @Test func unmaskedSoftmaxAnyRank() throws {
        guard let be = try TestDevice.backend() else { return }
        var rng = SeededRandom(seed: 6)
        for shape: Shape in [[1], [300], [5, 1], [2, 3, 129]] {
            let x = rng.floats(shape.count, in: -20...20)
            let out = try be.buffer(shape, .f32)
            try be.softmax(try be.f32(shape, x), mask: nil, into: out)
            let want = Reference.softmax(x.doubles, mask: nil, b: shape.count / shape.last, r: 1, n: shape.last)
            expectClose(try be.values(out), want, atol: 1e-6, "softmax \(shape)")
        }
    }

    @Test func l2NormalizeIncludingZeroRows() throws {
        guard let be = try TestDevice.backend() else { return }
        var rng = SeededRandom(seed: 7)
        var x = rng.floats(9 * 129)
        for j in 0..<129 { x[4 * 129 + j] = 0 }
        let tx = try be.f32([9, 129], x), out = try be.buffer([9, 129], .f32)
        try be.l2Normalize(tx, into: out)
        expectClose(try be.values(out), Reference.l2Normalize(x.doubles, h: 129), atol: 1e-6, "l2Normalize")
        try be.l2Normalize(tx, into: tx)
        expectClose(try be.values(tx), Reference.l2Normalize(x.doubles, h: 129), atol: 1e-6, "l2Normalize in place")
    }

    @Test(arguments: PoolingMode.allCases)
    func pooling(mode: PoolingMode) throws {
        guard let be = try TestDevice.backend() else { return }
        var rng = SeededRandom(seed: 8)
        let (b, s, h) = (5, 13, 33)
        let x = rng.floats(b * s * h)
        var mask = (0..<(b * s)).map { _ in Int32.random(in: 0...1, using: &rng) }
        for j in 0..<s { mask[2 * s + j] = 0 }   // no kept token: mean gives zeros
        mask[3 * s + 4] = 7                       // nonzero counts as kept
        let out = try be.buffer([b, h], .f32)
        try be.pool(try be.f32([b, s, h], x), mask: try be.i32([b, s], mask), mode: mode, into: out)
        expectClose(try be.values(out), Reference.pool(x.doubles, mask: mask, b: b, s: s, h: h, mode: mode.rawValue), atol: 1e-6, "pool \(mode)")
    }
}
