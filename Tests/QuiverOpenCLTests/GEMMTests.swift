import QuiverCore
import QuiverOpenCL
import QuiverTestSupport
import Testing

@Suite struct GEMMTests {
    /// Odd sizes around the 64×64×16 tiles: single element, K not a multiple of TS_K, edges.
    static let sizes: [(m: Int, n: Int, k: Int)] = [(1, 1, 1), (7, 33, 129), (33, 7, 17), (129, 65, 33), (2, 130, 5)]

    func run(_ be: OpenCLBackend, m: Int, n: Int, k: Int, transposeB: Bool, bias: Bool, _ act: Activation,
             seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let a = rng.floats(m * k), b = rng.floats(k * n), bv = rng.floats(n)
        let c = try be.buffer([m, n], .f32)
        try be.gemm(try be.f32([m, k], a), try be.f32(transposeB ? [n, k] : [k, n], b), transposeB: transposeB,
                    bias: bias ? try be.f32([n], bv) : nil, activation: act, into: c)
        let want = Reference.gemm(a.doubles, b.doubles, m: m, n: n, k: k, transposeB: transposeB, bias: bias ? bv.doubles : nil,
                                  activation: act.rawValue)
        expectClose(try be.values(c), want, "gemm \(m)×\(n)×\(k) transB=\(transposeB) bias=\(bias) \(act)")
    }

    @Test(arguments: [false, true])
    func plainProductOddShapes(transposeB: Bool) throws {
        guard let be = try TestDevice.backend() else { return }
        for (i, s) in Self.sizes.enumerated() {
            try run(be, m: s.m, n: s.n, k: s.k, transposeB: transposeB, bias: false, .identity, seed: UInt64(i))
        }
    }

    /// Each activation with a bias; the layout alternates (the epilogue does not depend on it, and
    /// every GEMM variant costs a ~2-5 s compile on PoCL). SplitTests covers gelu + bias on both.
    @Test(arguments: Activation.allCases.enumerated().map { ($0.element, $0.offset % 2 == 1) })
    func biasAndActivationEpilogue(activation: Activation, transposeB: Bool) throws {
        guard let be = try TestDevice.backend() else { return }
        try run(be, m: 37, n: 70, k: 45, transposeB: transposeB, bias: true, activation, seed: 11)
        try run(be, m: 1, n: 129, k: 17, transposeB: transposeB, bias: true, activation, seed: 12)
    }

    /// float2/float4 global loads: odd K and N put partial vectors at every edge of A and B (both
    /// layouts), and an unaligned row stride makes every vector load misaligned past 4 bytes.
    @Test(arguments: [2, 4])
    func vectorLoadsMatchTheReferenceAtOddEdges(width: Int) throws {
        guard let device = try TestDevice.device.get() else { return }
        let gemm = KernelConfig.GEMM(tileM: 16, tileN: 16, tileK: 8, workPerThreadM: 2, workPerThreadN: 2, vectorWidth: width)
        let be = try OpenCLBackend(device: device, options: .init(cacheDirectory: TestDevice.cacheDirectory,
                                                                  kernels: KernelConfig(gemm: gemm)))
        #expect(be.kernelConfig.gemm.vectorWidth == width)
        for (i, s) in [(m: 19, n: 21, k: 13), (m: 5, n: 37, k: 35), (m: 33, n: 3, k: 1)].enumerated() {
            for transposeB in [false, true] {
                try run(be, m: s.m, n: s.n, k: s.k, transposeB: transposeB, bias: i == 0, i == 0 ? .gelu : .identity,
                        seed: UInt64(40 + i))
            }
        }
        #expect(be.programCache.programKeys.contains { $0.hasPrefix("gemm|") && $0.contains("-D VW=\(width)") },
                "the programs were built with the vector width: \(be.programCache.programKeys)")
        #expect(throws: QuiverError.self) {
            _ = try OpenCLBackend(device: device, options: .init(kernels: KernelConfig(
                gemm: .init(tileM: 16, tileN: 16, tileK: 6, workPerThreadM: 2, workPerThreadN: 2, vectorWidth: 4))))
        }
    }

    /// K = 0 means c = act(bias or 0), overwriting c.
    @Test func zeroKGivesActivatedBias() throws {
        guard let be = try TestDevice.backend() else { return }
        let bias: [Float] = [-1, 0.5, 2]
        let c = try be.f32([4, 3], [Float](repeating: 7, count: 12))   // overwritten, not accumulated
        try be.gemm(try be.buffer([4, 0], .f32), try be.buffer([0, 3], .f32), transposeB: false,
                    bias: try be.f32([3], bias), activation: .relu, into: c)
        expectClose(try be.values(c), (0..<12).map { Double(max(bias[$0 % 3], 0)) }, "K = 0")
    }

    @Test func emptyOutputIsANoOp() throws {
        guard let be = try TestDevice.backend() else { return }
        try be.gemm(try be.buffer([0, 4], .f32), try be.buffer([4, 3], .f32), transposeB: false, bias: nil,
                    activation: .gelu, into: try be.buffer([0, 3], .f32))
        try be.synchronize()
    }

    @Test func rejectsBadShapesAndAliasing() throws {
        guard let be = try TestDevice.backend() else { return }
        let a = try be.buffer([4, 5], .f32)
        #expect(throws: QuiverError.self) {
            try be.gemm(a, try be.buffer([6, 3], .f32), transposeB: false, bias: nil, activation: .identity,
                        into: try be.buffer([4, 3], .f32))
        }
        let square = try be.buffer([5, 5], .f32)
        #expect(throws: QuiverError.self) {
            try be.gemm(square, square, transposeB: false, bias: nil, activation: .identity, into: square)
        }
    }
}
