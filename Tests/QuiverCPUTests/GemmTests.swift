import QuiverCore
import QuiverCPU
import QuiverTestSupport
import Testing

@Suite struct GemmTests {
    @Test(arguments: [(1, 1, 1), (7, 33, 5), (33, 7, 129), (129, 17, 64), (64, 130, 3), (1, 5000, 7)])
    func matchesFloat64(m: Int, n: Int, k: Int) throws {
        var rng = SeededRandom(seed: UInt64(m * 10_000 + n * 100 + k))
        let a = rng.floats(m * k), bias = rng.floats(n)
        for transposeB in [false, true] {
            let b = rng.floats(k * n)
            let ta = try backend.f32([m, k], a), tb = try backend.f32(transposeB ? [n, k] : [k, n], b)
            for act in Activation.allCases {
                for withBias in [false, true] {
                    let c = try backend.buffer([m, n], .f32)
                    try backend.gemm(ta, tb, transposeB: transposeB, bias: withBias ? try backend.f32([n], bias) : nil,
                                     activation: act, into: c)
                    let want = Reference.gemm(a.doubles, b.doubles, m: m, n: n, k: k, transposeB: transposeB,
                                              bias: withBias ? bias.doubles : nil, activation: act.rawValue)
                    expectClose(try backend.values(c), want, rtol: 1e-5, atol: 2e-6 * Double(k).squareRoot(),
                                "m\(m) n\(n) k\(k) transposeB \(transposeB) \(act) bias \(withBias)")
                }
            }
        }
    }

    @Test func emptyRows() throws {
        // M == 0: nothing to do, no error (K == 0 too: [0, 0] · [0, 3]).
        try backend.gemm(try backend.buffer([0, 5], .f32), try backend.buffer([5, 3], .f32), transposeB: false,
                         bias: nil, activation: .identity, into: try backend.buffer([0, 3], .f32))
        try backend.gemm(try backend.buffer([0, 0], .f32), try backend.buffer([0, 3], .f32), transposeB: false,
                         bias: try backend.buffer([3], .f32), activation: .gelu, into: try backend.buffer([0, 3], .f32))
    }

    /// K == 0 means c = activation(bias or 0), N == 0 an empty c.
    @Test func emptyInnerOrOuterDimension() throws {
        do {
            let c = try backend.buffer([4, 3], .f32)
            try backend.upload(try Tensor(shape: [4, 3], floats: Array(repeating: 9, count: 12)), to: c)
            try backend.gemm(try backend.buffer([4, 0], .f32), try backend.buffer([0, 3], .f32), transposeB: false,
                             bias: try backend.f32([3], [1, -2, 3]), activation: .relu, into: c)
            #expect(try backend.values(c) == Array(repeating: [1, 0, 3], count: 4).flatMap { $0 })
            try backend.gemm(try backend.buffer([4, 0], .f32), try backend.buffer([3, 0], .f32), transposeB: true,
                             bias: nil, activation: .sigmoid, into: c)
            #expect(try backend.values(c) == Array(repeating: 0.5, count: 12))
        }
        do {
            try backend.gemm(try backend.buffer([2, 5], .f32), try backend.buffer([5, 0], .f32), transposeB: false,
                             bias: nil, activation: .identity, into: try backend.buffer([2, 0], .f32))
        }
    }

    @Test func shapeMismatchNamesTheShapes() throws {
        let error = #expect(throws: QuiverError.self) {
            try backend.gemm(try backend.buffer([3, 4], .f32), try backend.buffer([5, 6], .f32), transposeB: false,
                             bias: nil, activation: .identity, into: try backend.buffer([3, 6], .f32))
        }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("gemm") && text.contains("[3, 4]") && text.contains("[5, 6]"), "\(text)")
    }

    @Test func rejectsAliasedOutputAndForeignTensors() throws {
        let a = try backend.buffer([2, 2], .f32)
        #expect(throws: QuiverError.self) {
            try backend.gemm(a, try backend.buffer([2, 2], .f32), transposeB: false, bias: nil, activation: .identity, into: a)
        }
        final class Foreign: DeviceTensor, @unchecked Sendable {
            let shape: Shape = [2, 2]
            let dtype: DType = .f32
        }
        #expect(throws: QuiverError.foreignTensor(op: "gemm", backend: "cpu")) {
            try backend.gemm(Foreign(), a, transposeB: false, bias: nil, activation: .identity,
                             into: try backend.buffer([2, 2], .f32))
        }
    }
}
