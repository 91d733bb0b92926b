import Foundation
import QuiverCore
@testable import QuiverCPU
import CVectorMath
import QuiverTestSupport
import Testing

@Suite struct ElementwiseTests {
    @Test(arguments: Activation.allCases)
    func activationMatchesFloat64OnADenseGrid(_ act: Activation) throws {
        // -20...20 in steps of 1/256 plus tiny, huge and special values: covers the polynomial
        // ranges and the cut-overs of exp, erf and tanh.
        var xs = stride(from: -20.0 as Float, through: 20, by: 1.0 / 256).map { $0 }
        xs += [1e-30, -1e-30, 1e-7, -1e-7, 3e-4, -3e-4, 0, -0.0, 88, -88, 90, -90, 104, -104, 1e30, -1e30,
               .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .infinity, -.infinity]
        let x = try backend.f32([xs.count], xs)
        let out = try backend.buffer([xs.count], .f32)
        try backend.activate(x, act, into: out)
        let got = try backend.values(out)
        let want = xs.map { Reference.activate(Double($0), act.rawValue) }
        // Relative 2e-6 (a few float ulps) or 1e-7 absolute (near the zeros of gelu/tanh and the
        // cancellation in 1 + erf for very negative x).
        for (i, (g, w)) in zip(got, want).enumerated() where xs[i].isFinite || !w.isNaN {
            let ok = g.isNaN ? w.isNaN : (Double(g) == w || abs(Double(g) - w) <= 1e-7 + 2e-6 * abs(w))
            #expect(ok, "\(act)(\(xs[i])) = \(g), want \(w)")
            if !ok { break }
        }
    }

    /// The accelerated C loops (CVectorMath, AVX-512 / AVX2+FMA where the CPU has them) and the
    /// portable Swift SIMD fallback both meet the same bound, in place and with an addend.
    @Test(arguments: [Activation.gelu, .geluTanh, .sigmoid, .tanh])
    func acceleratedAndPortablePathsMatchFloat64(_ act: Activation) throws {
        let xs = stride(from: -20.0 as Float, through: 20, by: 1.0 / 64).map { $0 } + [1e30, -1e30, 0, -0.0]
        let addend = xs.indices.map { Float($0 % 7) * 0.125 - 0.375 }
        let want = zip(xs, addend).map { Reference.activate(Double($0 + $1), act.rawValue) }
        for portable in [false, true] {
            var buffer = xs
            buffer.withUnsafeMutableBufferPointer { b in
                addend.withUnsafeBufferPointer { a in
                    let (x, add, out) = (UnsafePointer(b.baseAddress!), a.baseAddress!, b.baseAddress!)
                    if portable {
                        Elementwise.applyPortable(act, x, adding: add, into: out, count: b.count)
                    } else {
                        Elementwise.apply(act, x, adding: add, into: out, count: b.count)
                    }
                }
            }
            let bad = zip(buffer, want).enumerated().first { _, pair in
                let (g, w) = pair
                return !(Double(g) == w || abs(Double(g) - w) <= 1e-7 + 2e-6 * abs(w))
            }
            #expect(bad == nil, "\(act) portable=\(portable) (C variant \(String(cString: qvm_variant()))): at \(bad.map { xs[$0.offset] } ?? 0) got \(bad?.element.0 ?? 0), want \(bad?.element.1 ?? 0)")
        }
    }

    /// Softmax's exp pass: the C version (AVX-512 / AVX2+FMA) and the portable Swift one.
    @Test(arguments: [false, true])
    func softmaxExpPassBothPathsMatchFloat64(portable: Bool) {
        var rng = SeededRandom(seed: 11)
        for n in [1, 15, 16, 17, 129, 1000] {
            let x = rng.floats(n, in: -30...30)
            let mask: [Int32] = (0..<n).map { $0 % 5 == 3 ? 0 : 1 }
            var out = [Float](repeating: .nan, count: n)
            x.withUnsafeBufferPointer { xp in
                mask.withUnsafeBufferPointer { mp in
                    out.withUnsafeMutableBufferPointer { op in
                        RowKernels.softmax(xp.baseAddress!, mask: mp.baseAddress!, out: op.baseAddress!, n: n, portable: portable)
                    }
                }
            }
            let want = Reference.softmax(x.map(Double.init), mask: mask, b: 1, r: 1, n: n)
            let worst = zip(out, want).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(worst < 1e-6, "n \(n) portable=\(portable): max |Δ| \(worst)")
        }
    }

    @Test func addAndActivateWorkInPlaceOnOddSizes() throws {
        var rng = SeededRandom(seed: 7)
        for n in [1, 7, 33, 129, 5000] {
            let a = rng.floats(n, in: -4...4), b = rng.floats(n, in: -4...4)
            let ta = try backend.f32([n], a), tb = try backend.f32([n], b)
            try backend.add(ta, tb, into: ta)
            expectClose(try backend.values(ta), zip(a, b).map { Double($0) + Double($1) }, "add n\(n)")
            try backend.activate(ta, .gelu, into: ta)
            expectClose(try backend.values(ta), zip(a, b).map { Reference.activate(Double(Float($0 + $1)), "gelu") },
                        rtol: 2e-6, atol: 1e-7, "gelu n\(n)")
        }
    }

    @Test func addRejectsShapeMismatch() throws {
        let error = #expect(throws: QuiverError.self) {
            try backend.add(try backend.buffer([2, 3], .f32), try backend.buffer([3, 2], .f32),
                            into: try backend.buffer([2, 3], .f32))
        }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("[2, 3]") && text.contains("[3, 2]"), "\(text)")
    }

    @Test func convertRoundsToNearestEven() throws {
        let values: [Float] = [1 + 0x1p-11, 1 + 0x1p-10 + 0x1p-11, 1 + 0x1p-11 + 0x1p-20, 65504, 65519, 65520, -65520,
                               0x1p-24, 0x1p-25, 0.1, -0, .nan]
        let x = try backend.f32([values.count], values)
        let half = try backend.buffer([values.count], .f16)
        try backend.convert(x, into: half)
        let back = try backend.buffer([values.count], .f32)
        try backend.convert(half, into: back)
        let got = try backend.values(back)
        let want: [Float] = [1, 1 + 0x1p-9, 1 + 0x1p-10, 65504, 65504, .infinity, -.infinity, 0x1p-24, 0, Float(Float16(0.1)), 0]
        #expect(Array(got.prefix(want.count)) == want)
        #expect(got.last?.isNaN == true)
        // Same dtype: a copy.
        let copy = try backend.buffer([values.count], .f32)
        try backend.convert(back, into: copy)
        #expect(try backend.values(copy).prefix(want.count) == want.prefix(want.count))
        // Large enough to run on several threads.
        var rng = SeededRandom(seed: 3)
        let big = rng.floats(100_000, in: -70000...70000)
        let tb = try backend.f32([big.count], big), hb = try backend.buffer([big.count], .f16)
        try backend.convert(tb, into: hb)
        #expect(try backend.download(hb).floats() == big.map { Float(Float16($0)) })
    }

    @Test func buffersAreZeroedAndTransfersRoundTrip() throws {
        let t = try backend.buffer([3, 5], .i32)
        #expect(try backend.download(t).int32s() == Array(repeating: 0, count: 15))
        let host = try Tensor(shape: [3, 5], int32s: (0..<15).map(Int32.init))
        try backend.upload(host, to: t)
        #expect(try backend.download(t).int32s() == (0..<15).map(Int32.init))
        #expect(throws: QuiverError.self) { try backend.upload(host, to: try backend.buffer([5, 3], .i32)) }
        #expect(throws: QuiverError.self) { try backend.buffer([2, -1], .f32) }
        #expect(throws: QuiverError.self) { try backend.buffer([Int.max / 2, 4], .f32) }
        let empty = try backend.buffer([0, 4], .f32)
        try backend.upload(Tensor(zeros: [0, 4]), to: empty)
        #expect(try backend.download(empty).shape == [0, 4])
        try backend.synchronize()
    }
}
