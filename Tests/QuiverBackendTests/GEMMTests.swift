import Testing
import QuiverRuntime
import QuiverTestSupport

/// GEMM on every backend against the float64 reference, on odd shapes (not tile multiples).
/// Tolerance: per-element error ≤ 3e-5 × Σ|a||b| of that element (float32 accumulation over K ≤ 1024
/// stays far below this; a wrong index or a dropped tile gives errors of order 1).
@Suite struct GEMMTests {
    static let cases: [(m: Int, n: Int, k: Int)] = [(1, 1, 1), (7, 33, 129), (33, 7, 64), (129, 65, 33), (2, 3, 1000), (65, 129, 17)]

    @Test(arguments: TestBackends.names, [false, true])
    func matchesReference(backendName: String, transposeB: Bool) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        for (index, shape) in Self.cases.enumerated() {
            let activation = Activation.allCases[index % Activation.allCases.count]
            let withBias = index % 2 == 0
            var rng = TestSeed.rng("gemm-\(backendName)-\(transposeB)-\(index)")
            let a = rng.floats(shape.m * shape.k), b = rng.floats(shape.n * shape.k), bias = rng.floats(shape.n)
            let bShape: Shape = transposeB ? [shape.n, shape.k] : [shape.k, shape.n]
            let c = try backend.zeros([shape.m, shape.n])
            try backend.gemm(backend.f32([shape.m, shape.k], a), backend.f32(bShape, b), transposeB: transposeB,
                             bias: withBias ? backend.f32([shape.n], bias) : nil, activation: activation, into: c)
            let expected = Reference.gemm(a.doubles, b.doubles, m: shape.m, n: shape.n, k: shape.k, transposeB: transposeB,
                                          bias: withBias ? bias.doubles : nil, activation: activation.rawValue)
            let magnitude = Reference.gemmMagnitude(a.doubles, b.doubles, m: shape.m, n: shape.n, k: shape.k, transposeB: transposeB)
                .map { $0 + (withBias ? 1 : 0) }
            let error = Compare.maxScaledError(try backend.values(c), expected, magnitude: magnitude)
            #expect(error < 3e-5, "\(backendName) \(shape) transposeB=\(transposeB) bias=\(withBias) \(activation): error \(error) \(TestSeed.replay)")
        }
    }

    @Test(arguments: TestBackends.names)
    func flattensLeadingAxesOfA(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        var rng = TestSeed.rng("gemm-rank3-\(backendName)")
        let (b, s, k, n) = (3, 5, 24, 10)
        let a = rng.floats(b * s * k), w = rng.floats(n * k)
        let c = try backend.zeros([b, s, n])
        try backend.gemm(backend.f32([b, s, k], a), backend.f32([n, k], w), transposeB: true, bias: nil, activation: .identity, into: c)
        let expected = Reference.gemm(a.doubles, w.doubles, m: b * s, n: n, k: k, transposeB: true, bias: nil, activation: "identity")
        #expect(Compare.maxRelativeError(try backend.values(c), expected) < 1e-5, "\(TestSeed.replay)")
    }

    @Test(arguments: TestBackends.names)
    func emptyInnerDimensionGivesActivatedBias(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        let bias: [Float] = [-1, 0.5, 2]
        let c = try backend.f32([2, 3], [9, 9, 9, 9, 9, 9])
        try backend.gemm(backend.zeros([2, 0]), backend.zeros([0, 3]), transposeB: false, bias: backend.f32([3], bias),
                         activation: .relu, into: c)
        #expect(try backend.values(c) == [0, 0.5, 2, 0, 0.5, 2])
    }

    @Test(arguments: TestBackends.names)
    func rejectsMismatchedShapesNamingThem(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        let a = try backend.zeros([4, 5]), b = try backend.zeros([6, 3]), c = try backend.zeros([4, 3])
        let error = #expect(throws: QuiverError.self) {
            try backend.gemm(a, b, transposeB: false, bias: nil, activation: .identity, into: c)
        }
        let message = error.map(String.init(describing:)) ?? ""
        #expect(message.contains("[4, 5]") && message.contains("[6, 3]"), "message: \(message)")

        let wrongC = try backend.zeros([4, 4])
        let cError = #expect(throws: QuiverError.self) {
            try backend.gemm(a, backend.zeros([5, 3]), transposeB: false, bias: nil, activation: .identity, into: wrongC)
        }
        #expect(cError.map(String.init(describing:))?.contains("[4, 4]") == true)

        let badBias = #expect(throws: QuiverError.self) {
            try backend.gemm(a, backend.zeros([5, 3]), transposeB: false, bias: backend.zeros([4]), activation: .identity, into: c)
        }
        #expect(badBias.map(String.init(describing:))?.contains("bias is [4]") == true)
    }

    @Test(arguments: TestBackends.names)
    func rejectsUnsupportedDTypes(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        let a = try backend.zeros([2, 2], .i32), b = try backend.zeros([2, 2]), c = try backend.zeros([2, 2])
        #expect(throws: QuiverError.unsupportedDType(op: "gemm", operand: "a", dtype: .i32, expected: [.f32])) {
            try backend.gemm(a, b, transposeB: false, bias: nil, activation: .identity, into: c)
        }
    }
}
