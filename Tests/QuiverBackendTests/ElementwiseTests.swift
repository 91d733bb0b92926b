import Testing
import QuiverRuntime
import QuiverTestSupport

/// add, activations and f32↔f16 conversion on every backend.
/// Tolerance: 2e-6 of max(largest reference magnitude, 1) (single-precision transcendental functions
/// are accurate to a few ulp; a wrong formula, e.g. tanh-GELU for erf-GELU, differs by ~1e-3).
/// The floor of 1 makes tiny outputs (gelu(-6) ≈ -6e-9, where 1 + erf cancels) count absolutely.
@Suite struct ElementwiseTests {
    @Test(arguments: TestBackends.names)
    func addMatchesReference(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        for count in [1, 7, 33, 129, 1000] {
            var rng = TestSeed.rng("add-\(backendName)-\(count)")
            let a = rng.floats(count, in: -100...100), b = rng.floats(count)
            let out = try backend.zeros([count])
            try backend.add(backend.f32([count], a), backend.f32([count], b), into: out)
            let expected = zip(a, b).map { Double($0) + Double($1) }
            #expect(Compare.maxRelativeError(try backend.values(out), expected) < 1e-7, "\(count) \(TestSeed.replay)")
        }
    }

    @Test(arguments: TestBackends.names, Activation.allCases)
    func activationMatchesReference(backendName: String, activation: Activation) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        for shape in [Shape([1]), Shape([7, 33]), Shape([3, 5, 129])] {
            var rng = TestSeed.rng("act-\(backendName)-\(activation)-\(shape)")
            let x = rng.floats(shape.count, in: -6...6)
            let out = try backend.zeros(shape)
            try backend.activate(backend.f32(shape, x), activation, into: out)
            let expected = x.map { Reference.activate(Double($0), activation.rawValue) }
            let error = Compare.maxRelativeError(try backend.values(out), expected, floor: 1)
            #expect(error < 2e-6, "\(activation) \(shape): \(error) \(TestSeed.replay)")
        }
    }

    @Test(arguments: TestBackends.names)
    func activationsInPlaceAndAtExtremes(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        let x: [Float] = [-1e30, -100, -0.0, 0, 1e-30, 100, 1e30]
        for activation in Activation.allCases {
            let t = try backend.f32([x.count], x)
            try backend.activate(t, activation, into: t)
            let got = try backend.values(t)
            let expected = x.map { Reference.activate(Double($0), activation.rawValue) }
            #expect(!Compare.hasNaN(got), "\(activation) gave NaN: \(got)")
            #expect(Compare.maxRelativeError(got, expected, floor: 1) < 2e-6, "\(activation): \(got) vs \(expected)")
        }
    }

    @Test(arguments: TestBackends.names)
    func halfConversionRoundsToNearestEven(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        var rng = TestSeed.rng("f16-\(backendName)")
        // Ties (1 + 2⁻¹¹ → 1, 1 + 3·2⁻¹¹ → 1 + 2⁻⁹), overflow, subnormals, signed zero, plus random values.
        let special: [Float] = [1 + 0x1p-11, 1 + 3 * 0x1p-11, -(1 + 0x1p-11), 65504, 65519, 65520, -70000, 0x1p-24, 0x1p-25, 3 * 0x1p-26, -0.0, 0.1, 1e-8]
        let x = special + rng.normals(200, std: 100)
        let half = try backend.zeros([x.count], .f16), back = try backend.zeros([x.count])
        try backend.convert(backend.f32([x.count], x), into: half)
        try backend.convert(half, into: back)
        let expected = x.map { Float(Float16($0)) }  // Swift's Float16 rounds to nearest even
        let got = try backend.values(back)
        for i in x.indices where !(got[i] == expected[i] || (got[i].isNaN && expected[i].isNaN)) {
            Issue.record("f16(\(x[i])) = \(got[i]), expected \(expected[i]) \(TestSeed.replay)")
        }
        #expect(try backend.values(half) == expected)
    }

    @Test(arguments: TestBackends.names)
    func rejectsMismatchedShapes(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        let error = #expect(throws: QuiverError.self) {
            try backend.add(backend.zeros([2, 3]), backend.zeros([3, 2]), into: backend.zeros([2, 3]))
        }
        #expect(error?.description.contains("[2, 3]") == true && error?.description.contains("[3, 2]") == true)
        #expect(throws: QuiverError.self) { try backend.convert(backend.zeros([4], .i32), into: backend.zeros([4])) }
        #expect(throws: QuiverError.self) { try backend.upload(Tensor(zeros: [3]), to: backend.zeros([4])) }
    }
}
