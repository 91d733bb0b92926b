import Foundation
import QuiverCore
import QuiverCPU
import Testing

@Suite struct RowwiseTests {
    func referenceLayerNorm(_ x: [Float], _ r: [Float]?, _ g: [Float], _ b: [Float], eps: Float, h: Int) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        for row in 0..<(x.count / h) {
            let s = (0..<h).map { Double(x[row * h + $0]) + Double(r?[row * h + $0] ?? 0) }
            let mean = s.reduce(0, +) / Double(h)
            let variance = s.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(h)
            for j in 0..<h { out[row * h + j] = (s[j] - mean) / (variance + Double(eps)).squareRoot() * Double(g[j]) + Double(b[j]) }
        }
        return out
    }

    @Test(arguments: [1, 7, 33, 129, 384])
    func layerNormWithAndWithoutResidual(h: Int) throws {
        var rng = SeededRandom(UInt64(h))
        let rows = 37
        // An offset mean (|mean| ≫ std) is the hard case for float statistics; the hi/lo mean keeps
        // the error near 5e-7 (measured up to mean/std = 1e5); rounding x + residual to f32 (as
        // PyTorch does) adds up to ulp(50)/2 / std ≈ 2.5e-6 against the exact Double sum.
        let x = rng.floats(rows * h).map { $0 + 50 }, r = rng.floats(rows * h), g = rng.floats(h), b = rng.floats(h)
        let (tg, tb) = (try upload([h], g), try upload([h], b))
        for withResidual in [false, true] {
            let tx = try upload([rows, h], x), out = try backend.buffer([rows, h], .f32)
            try backend.layerNorm(tx, residual: withResidual ? try upload([rows, h], r) : nil, gamma: tg, beta: tb,
                                  epsilon: 1e-12, into: out)
            let want = referenceLayerNorm(x, withResidual ? r : nil, g, b, eps: 1e-12, h: h)
            expectClose(try floats(out), want, rtol: 5e-6, atol: 5e-6, "h\(h) residual \(withResidual)")
            // In place gives the same bits.
            try backend.layerNorm(tx, residual: withResidual ? try upload([rows, h], r) : nil, gamma: tg, beta: tb,
                                  epsilon: 1e-12, into: tx)
            #expect(try floats(tx) == floats(out))
        }
    }

    @Test func layerNormOfAConstantRowIsBeta() throws {
        let out = try backend.buffer([1, 5], .f32)
        try backend.layerNorm(try upload([1, 5], [3, 3, 3, 3, 3]), residual: nil, gamma: try upload([5], [1, 2, 3, 4, 5]),
                              beta: try upload([5], [0.5, 0, -1, 2, 0]), epsilon: 1e-5, into: out)
        #expect(try floats(out) == [0.5, 0, -1, 2, 0])
    }

    func referenceSoftmax(_ x: [Float], _ mask: [Int32]?, n: Int) -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        for row in 0..<(x.count / n) {
            let kept = (0..<n).filter { mask?[$0] != 0 && x[row * n + $0] != -.infinity }
            guard let m = kept.map({ Double(x[row * n + $0]) }).max() else { continue }
            let sum = kept.map { exp(Double(x[row * n + $0]) - m) }.reduce(0, +)
            for j in kept { out[row * n + j] = exp(Double(x[row * n + j]) - m) / sum }
        }
        return out
    }

    @Test(arguments: [1, 7, 33, 129])
    func softmaxMatchesFloat64WithMask(n: Int) throws {
        var rng = SeededRandom(UInt64(100 + n))
        let (b, mid) = (3, 5)
        let x = rng.floats(b * mid * n, -8...8)
        var mask = (0..<(b * n)).map { _ in Int32.random(in: 0...1, using: &rng) }
        mask[0] = 1
        for j in 0..<n { mask[n + j] = 0 }  // batch row 1: nothing kept
        let tx = try upload([b, mid, n], x), out = try backend.buffer([b, mid, n], .f32)
        try backend.softmax(tx, mask: try upload([b, n], ints: mask), into: out)
        let got = try floats(out)
        var want = [Double]()
        for bi in 0..<b {
            want += referenceSoftmax(Array(x[(bi * mid * n)..<((bi + 1) * mid * n)]), Array(mask[(bi * n)..<((bi + 1) * n)]), n: n)
        }
        expectClose(got, want, rtol: 1e-5, atol: 1e-7, "masked n\(n)")
        #expect(got[(mid * n)..<(2 * mid * n)].allSatisfy { $0 == 0 })
        try backend.softmax(tx, mask: nil, into: tx)
        expectClose(try floats(tx), referenceSoftmax(x, nil, n: n), rtol: 1e-5, atol: 1e-7, "unmasked in place n\(n)")
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
        let x = try upload([rows.count, 4], rows.flatMap { $0 }), out = try backend.buffer([rows.count, 4], .f32)
        try backend.softmax(x, mask: nil, into: out)
        let got = try floats(out)
        #expect(!got.contains { $0.isNaN })
        let want: [Float] = [0.5, 0, 0, 0.5, 0.5, 0, 0.5, 0, 0.25, 0.25, 0.25, 0.25, 0, 0, 0, 0, 0, 0.5, 0, 0.5, 0.5, 0, 0.5, 0]
        #expect(got == want)
        let error = #expect(throws: QuiverError.self) {
            try backend.softmax(x, mask: try upload([6, 3], ints: Array(repeating: 1, count: 18)), into: out)
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("[6, 3]"))
    }

    @Test func l2NormalizeIncludingZeroAndHugeRows() throws {
        var rng = SeededRandom(11)
        for h in [1, 7, 33, 129] {
            let x = rng.floats(4 * h, -3...3)
            let tx = try upload([4, h], x)
            try backend.l2Normalize(tx, into: tx)
            var want = [Double]()
            for r in 0..<4 {
                let row = x[(r * h)..<((r + 1) * h)].map(Double.init)
                let norm = max(row.map { $0 * $0 }.reduce(0, +).squareRoot(), 1e-12)
                want += row.map { $0 / norm }
            }
            expectClose(try floats(tx), want, rtol: 1e-6, atol: 1e-7, "h\(h)")
        }
        let special = try upload([3, 3], [0, 0, 0, 3e30, -4e30, 0, 1e-13, 0, 0])
        try backend.l2Normalize(special, into: special)
        expectClose(try floats(special), [0, 0, 0, 0.6, -0.8, 0, 0.1, 0, 0], rtol: 1e-6, atol: 0, "zero/huge/tiny")
    }

    @Test func poolMeanAndCLS() throws {
        var rng = SeededRandom(13)
        let (b, s, h) = (4, 9, 33)
        let x = rng.floats(b * s * h)
        var mask = (0..<(b * s)).map { _ in Int32.random(in: 0...1, using: &rng) }
        for j in 0..<s { mask[2 * s + j] = 0 }  // no kept position
        mask[0] = 3  // nonzero counts as kept
        let tx = try upload([b, s, h], x), tm = try upload([b, s], ints: mask)
        let out = try backend.buffer([b, h], .f32)
        try backend.pool(tx, mask: tm, mode: .mean, into: out)
        var want = [Double](repeating: 0, count: b * h)
        for bi in 0..<b {
            let kept = (0..<s).filter { mask[bi * s + $0] != 0 }
            for j in 0..<h {
                want[bi * h + j] = kept.map { Double(x[(bi * s + $0) * h + j]) }.reduce(0, +) / max(Double(kept.count), 1e-9)
            }
        }
        expectClose(try floats(out), want, rtol: 1e-5, atol: 1e-6, "mean")
        try backend.pool(tx, mask: tm, mode: .cls, into: out)
        #expect(try floats(out) == (0..<b).flatMap { x[($0 * s * h)..<($0 * s * h + h)] })
        let empty = try backend.buffer([2, 0, 3], .f32), cls = try upload([2, 3], [1, 1, 1, 1, 1, 1])
        try backend.pool(empty, mask: try backend.buffer([2, 0], .i32), mode: .cls, into: cls)
        #expect(try floats(cls) == [0, 0, 0, 0, 0, 0])
    }
}
