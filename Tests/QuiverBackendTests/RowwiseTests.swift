import Testing
import QuiverRuntime
import QuiverTestSupport

/// LayerNorm, softmax, L2 normalize and pooling on every backend.
@Suite struct RowwiseTests {
    /// Tolerance 1e-5 of the largest output; inputs carry a large common offset (mean ≈ 50) so a
    /// one-pass E[x²]−E[x]² variance would lose digits and fail.
    @Test(arguments: TestBackends.names, [false, true])
    func layerNormMatchesReference(backendName: String, withResidual: Bool) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        for (rows, h) in [(1, 1), (1, 7), (33, 129), (5, 384), (2, 1000)] {
            var rng = TestSeed.rng("ln-\(backendName)-\(withResidual)-\(rows)-\(h)")
            let x = rng.floats(rows * h).map { $0 + 50 }, residual = rng.floats(rows * h)
            let gamma = rng.floats(h, in: 0.5...1.5), beta = rng.floats(h)
            let out = try backend.zeros([rows, h])
            try backend.layerNorm(backend.f32([rows, h], x), residual: withResidual ? backend.f32([rows, h], residual) : nil,
                                  gamma: backend.f32([h], gamma), beta: backend.f32([h], beta), epsilon: 1e-12, into: out)
            let expected = Reference.layerNorm(x.doubles, residual: withResidual ? residual.doubles : nil, gamma: gamma.doubles,
                                               beta: beta.doubles, epsilon: 1e-12, h: h)
            let error = Compare.maxRelativeError(try backend.values(out), expected)
            #expect(error < 1e-5, "[\(rows), \(h)] residual=\(withResidual): \(error) \(TestSeed.replay)")
        }
    }

    /// The fused residual form equals add followed by LayerNorm, in place.
    @Test(arguments: TestBackends.names)
    func fusedResidualEqualsComposition(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        var rng = TestSeed.rng("ln-fused-\(backendName)")
        let (rows, h) = (9, 384)
        let x = rng.floats(rows * h), r = rng.floats(rows * h), gamma = rng.floats(h), beta = rng.floats(h)
        let (g, b) = (try backend.f32([h], gamma), try backend.f32([h], beta))
        let fused = try backend.zeros([rows, h])
        try backend.layerNorm(backend.f32([rows, h], x), residual: backend.f32([rows, h], r), gamma: g, beta: b, epsilon: 1e-5, into: fused)
        let composed = try backend.f32([rows, h], x)
        try backend.add(composed, backend.f32([rows, h], r), into: composed)
        try backend.layerNorm(composed, residual: nil, gamma: g, beta: b, epsilon: 1e-5, into: composed)
        #expect(Compare.maxAbsoluteError(try backend.values(fused), try backend.values(composed).doubles) < 1e-5)
    }

    @Test(arguments: TestBackends.names)
    func softmaxMatchesReferenceWithMask(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        for (b, r, n) in [(1, 1, 1), (3, 1, 7), (2, 4, 33), (4, 3, 129), (2, 2, 1000)] {
            var rng = TestSeed.rng("softmax-\(backendName)-\(b)-\(r)-\(n)")
            let x = rng.floats(b * r * n, in: -20...20)
            var mask = rng.paddingMask(b: b, s: n)
            if b > 1 { for j in 0..<n { mask[n + j] = 0 } }  // batch row 1 fully padded
            let out = try backend.zeros([b, r, n])
            try backend.softmax(backend.f32([b, r, n], x), mask: backend.i32([b, n], mask), into: out)
            let expected = Reference.softmax(x.doubles, mask: mask, b: b, r: r, n: n)
            let got = try backend.values(out)
            #expect(!Compare.hasNaN(got))
            #expect(Compare.maxAbsoluteError(got, expected) < 1e-6, "[\(b), \(r), \(n)] \(TestSeed.replay)")
        }
    }

    @Test(arguments: TestBackends.names)
    func softmaxSurvivesExtremeLogits(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        let rows: [[Float]] = [
            [1e30, -1e30, 0, 1e30],
            [-1e30, -1e30, -1e30, -1e30],
            [-.infinity, -.infinity, -.infinity, -.infinity],
            [-.infinity, 3, -.infinity, 3],
            [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1, 2],
            [1e-30, -1e-30, 0, 1e-38],
        ]
        let x = rows.flatMap { $0 }
        let out = try backend.zeros([rows.count, 4])
        try backend.softmax(backend.f32([rows.count, 4], x), mask: nil, into: out)
        let got = try backend.values(out)
        let expected = Reference.softmax(x.doubles, mask: nil, b: rows.count, r: 1, n: 4)
        #expect(!Compare.hasNaN(got), "NaN in \(got)")
        #expect(Compare.maxAbsoluteError(got, expected) < 1e-6, "\(got) vs \(expected)")
        #expect(Array(got[8..<12]) == [0, 0, 0, 0], "all -inf row must be zeros")
    }

    @Test(arguments: TestBackends.names)
    func l2NormalizeMatchesReference(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        var rng = TestSeed.rng("l2-\(backendName)")
        let (rows, h) = (7, 129)
        var x = rng.floats(rows * h, in: -3...3)
        for j in 0..<h { x[h + j] = 0; x[2 * h + j] = 1e-20 }  // a zero row stays zero; a tiny row still normalizes
        let t = try backend.f32([rows, h], x)
        try backend.l2Normalize(t, into: t)
        let got = try backend.values(t)
        #expect(Compare.maxAbsoluteError(got, Reference.l2Normalize(x.doubles, h: h)) < 1e-6, "\(TestSeed.replay)")
        #expect(got[h..<(2 * h)].allSatisfy { $0 == 0 })
    }

    @Test(arguments: TestBackends.names, PoolingMode.allCases)
    func poolingMatchesReference(backendName: String, mode: PoolingMode) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        for (b, s, h) in [(1, 1, 1), (3, 7, 33), (4, 129, 384)] {
            var rng = TestSeed.rng("pool-\(backendName)-\(mode)-\(b)-\(s)-\(h)")
            let x = rng.floats(b * s * h)
            var mask = rng.paddingMask(b: b, s: s)
            if b > 2 { for t in 0..<s { mask[2 * s + t] = 0 } }  // a fully padded sequence pools to zeros
            let out = try backend.zeros([b, h])
            try backend.pool(backend.f32([b, s, h], x), mask: backend.i32([b, s], mask), mode: mode, into: out)
            let expected = Reference.pool(x.doubles, mask: mask, b: b, s: s, h: h, mode: mode.rawValue)
            #expect(Compare.maxAbsoluteError(try backend.values(out), expected) < 1e-6, "\(mode) [\(b), \(s), \(h)] \(TestSeed.replay)")
        }
    }

    @Test(arguments: TestBackends.names)
    func rejectsBadShapesNamingThem(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        let x = try backend.zeros([2, 8])
        let ln = #expect(throws: QuiverError.self) {
            try backend.layerNorm(x, residual: nil, gamma: backend.zeros([7]), beta: backend.zeros([8]), epsilon: 1e-5, into: x)
        }
        #expect(ln?.description.contains("[7]") == true && ln?.description.contains("[2, 8]") == true)
        let sm = #expect(throws: QuiverError.self) { try backend.softmax(x, mask: backend.i32([2, 7], Array(repeating: 1, count: 14)), into: x) }
        #expect(sm?.description.contains("[2, 7]") == true)
        #expect(throws: QuiverError.self) { try backend.softmax(x, mask: backend.zeros([2, 8]), into: x) }
        let pool = #expect(throws: QuiverError.self) {
            try backend.pool(backend.zeros([2, 3, 4]), mask: backend.zeros([2, 3], .i32), mode: .mean, into: backend.zeros([2, 3]))
        }
        #expect(pool?.description.contains("[2, 3, 4]") == true)
    }
}
