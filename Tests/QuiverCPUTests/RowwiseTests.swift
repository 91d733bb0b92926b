import Foundation
import QuiverCore
import QuiverCPU
import QuiverTestSupport
import Testing

@Suite struct RowwiseTests {
    @Test(arguments: [1, 7, 33, 129, 384])
    func layerNormWithAndWithoutResidual(h: Int) throws {
        var rng = SeededRandom(seed: UInt64(h))
        let rows = 37
        // An offset mean (|mean| ≫ std) is the hard case for float statistics; the hi/lo mean keeps
        // the error near 5e-7 (measured up to mean/std = 1e5); rounding x + residual to f32 (as
        // PyTorch does) adds up to ulp(50)/2 / std ≈ 2.5e-6 against the exact Double sum.
        let x = rng.floats(rows * h).map { $0 + 50 }, r = rng.floats(rows * h), g = rng.floats(h), b = rng.floats(h)
        let (tg, tb) = (try backend.f32([h], g), try backend.f32([h], b))
        for withResidual in [false, true] {
            let tx = try backend.f32([rows, h], x), out = try backend.buffer([rows, h], .f32)
            try backend.layerNorm(tx, residual: withResidual ? try backend.f32([rows, h], r) : nil, gamma: tg, beta: tb,
                                  epsilon: 1e-12, into: out)
            let want = Reference.layerNorm(x.doubles, residual: withResidual ? r.doubles : nil, gamma: g.doubles, beta: b.doubles,
                                           epsilon: 1e-12, h: h)
            expectClose(try backend.values(out), want, rtol: 5e-6, atol: 5e-6, "h\(h) residual \(withResidual)")
            // In place gives the same bits.
            try backend.layerNorm(tx, residual: withResidual ? try backend.f32([rows, h], r) : nil, gamma: tg, beta: tb,
                                  epsilon: 1e-12, into: tx)
            #expect(try backend.values(tx) == backend.values(out))
        }
    }

    @Test func layerNormOfAConstantRowIsBeta() throws {
        let out = try backend.buffer([1, 5], .f32)
        try backend.layerNorm(try backend.f32([1, 5], [3, 3, 3, 3, 3]), residual: nil, gamma: try backend.f32([5], [1, 2, 3, 4, 5]),
                              beta: try backend.f32([5], [0.5, 0, -1, 2, 0]), epsilon: 1e-5, into: out)
        #expect(try backend.values(out) == [0.5, 0, -1, 2, 0])
    }

    @Test(arguments: [1, 7, 33, 129])
    func softmaxMatchesFloat64WithMask(n: Int) throws {
        var rng = SeededRandom(seed: UInt64(100 + n))
        let (b, mid) = (3, 5)
        let x = rng.floats(b * mid * n, in: -8...8)
        var mask = (0..<(b * n)).map { _ in Int32.random(in: 0...1, using: &rng) }
        mask[0] = 1
        for j in 0..<n { mask[n + j] = 0 }  // batch row 1: nothing kept
        let tx = try backend.f32([b, mid, n], x), out = try backend.buffer([b, mid, n], .f32)
        try backend.softmax(tx, mask: try backend.i32([b, n], mask), into: out)
        let got = try backend.values(out)
        let want = Reference.softmax(x.doubles, mask: mask, b: b, r: mid, n: n)
        expectClose(got, want, rtol: 1e-5, atol: 1e-7, "masked n\(n)")
        #expect(got[(mid * n)..<(2 * mid * n)].allSatisfy { $0 == 0 })
        try backend.softmax(tx, mask: nil, into: tx)
        expectClose(try backend.values(tx), Reference.softmax(x.doubles, mask: nil, b: b, r: mid, n: n), rtol: 1e-5, atol: 1e-7,
                    "unmasked in place n\(n)")
    }

    @Test func softmaxNeverMakesNaN() throws {
        let big = Float.greatestFiniteMagnitude
        let rows: [[Float]] = [
            [1e30, -1e30, 0, 1e30],
            [big, -big, big, 0],
            [-big, -big, -big, -big],
            [-.infinity, -.infinity, -.infinity, -.infinity],
            [-.infinity, 0, -.infinity, 0],
            [.infinity, 1, .infinity, -.infinity],
        ]
        let x = try backend.f32([rows.count, 4], rows.flatMap { $0 }), out = try backend.buffer([rows.count, 4], .f32)
        try backend.softmax(x, mask: nil, into: out)
        let got = try backend.values(out)
        #expect(!got.contains { $0.isNaN })
        let want: [Float] = [0.5, 0, 0, 0.5, 0.5, 0, 0.5, 0, 0.25, 0.25, 0.25, 0.25, 0, 0, 0, 0, 0, 0.5, 0, 0.5, 0.5, 0, 0.5, 0]
        #expect(got == want)
        try backend.softmax(x, mask: nil, into: x)   // in place: the max pass only reads
        #expect(try backend.values(x) == want)
        let error = #expect(throws: QuiverError.self) {
            try backend.softmax(x, mask: try backend.i32([6, 3], Array(repeating: 1, count: 18)), into: out)
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("[6, 3]"))
    }

    @Test func l2NormalizeIncludingZeroAndHugeRows() throws {
        var rng = SeededRandom(seed: 11)
        for h in [1, 7, 33, 129] {
            let x = rng.floats(4 * h, in: -3...3)
            let tx = try backend.f32([4, h], x)
            try backend.l2Normalize(tx, into: tx)
            expectClose(try backend.values(tx), Reference.l2Normalize(x.doubles, h: h), rtol: 1e-6, atol: 1e-7, "h\(h)")
        }
        let special = try backend.f32([3, 3], [0, 0, 0, 3e30, -4e30, 0, 1e-13, 0, 0])
        try backend.l2Normalize(special, into: special)
        expectClose(try backend.values(special), [0, 0, 0, 0.6, -0.8, 0, 0.1, 0, 0], rtol: 1e-6, atol: 0, "zero/huge/tiny")
    }

    @Test func poolMeanAndCLS() throws {
        var rng = SeededRandom(seed: 13)
        let (b, s, h) = (4, 9, 33)
        let x = rng.floats(b * s * h)
        var mask = (0..<(b * s)).map { _ in Int32.random(in: 0...1, using: &rng) }
        for j in 0..<s { mask[2 * s + j] = 0 }  // no kept position
        mask[0] = 3  // nonzero counts as kept
        let tx = try backend.f32([b, s, h], x), tm = try backend.i32([b, s], mask)
        let out = try backend.buffer([b, h], .f32)
        try backend.pool(tx, mask: tm, mode: .mean, into: out)
        let want = Reference.pool(x.doubles, mask: mask, b: b, s: s, h: h, mode: "mean")
        expectClose(try backend.values(out), want, rtol: 1e-5, atol: 1e-6, "mean")
        try backend.pool(tx, mask: tm, mode: .cls, into: out)
        #expect(try backend.values(out) == (0..<b).flatMap { x[($0 * s * h)..<($0 * s * h + h)] })
        let empty = try backend.buffer([2, 0, 3], .f32), cls = try backend.f32([2, 3], [1, 1, 1, 1, 1, 1])
        try backend.pool(empty, mask: try backend.buffer([2, 0], .i32), mode: .cls, into: cls)
        #expect(try backend.values(cls) == [0, 0, 0, 0, 0, 0])
    }
}
