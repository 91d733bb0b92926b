import Testing
import QuiverRuntime
import QuiverTestSupport

/// Multi-head attention with a padding mask, against the float64 reference (tolerance 1e-5 of the
/// largest output). Head sizes 32 (bge-small) and 64 (MiniLM, BERT-base); sequence lengths that
/// cross key tiles; a fully padded sequence must give zeros, never NaN.
@Suite struct AttentionTests {
    static let cases: [(b: Int, s: Int, heads: Int, d: Int)] = [(1, 1, 1, 32), (3, 7, 2, 32), (2, 33, 3, 64), (2, 129, 2, 64), (1, 5, 4, 16)]

    @Test(arguments: TestBackends.names)
    func matchesReference(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        for (index, c) in Self.cases.enumerated() {
            var rng = TestSeed.rng("attention-\(backendName)-\(index)")
            let count = c.b * c.s * c.heads * c.d
            let q = rng.normals(count), k = rng.normals(count), v = rng.normals(count)
            var mask = rng.paddingMask(b: c.b, s: c.s)
            if c.b == 3 { for t in 0..<c.s { mask[c.s + t] = 0 } }
            let shape: Shape = [c.b, c.s, c.heads * c.d]
            let out = try backend.zeros(shape)
            let scale: Float? = index == 4 ? 0.3 : nil
            try backend.attention(query: backend.f32(shape, q), key: backend.f32(shape, k), value: backend.f32(shape, v),
                                  mask: backend.i32([c.b, c.s], mask), heads: c.heads, scale: scale, into: out)
            let expected = Reference.attention(q: q.doubles, k: k.doubles, v: v.doubles, mask: mask, b: c.b, s: c.s,
                                               heads: c.heads, d: c.d, scale: Double(scale ?? 1 / Float(c.d).squareRoot()))
            let got = try backend.values(out)
            #expect(!Compare.hasNaN(got))
            let error = Compare.maxRelativeError(got, expected)
            #expect(error < 1e-5, "\(c): \(error) \(TestSeed.replay)")
        }
    }

    @Test(arguments: TestBackends.names)
    func largeLogitsStayFinite(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        var rng = TestSeed.rng("attention-large-\(backendName)")
        let (b, s, d) = (2, 9, 32)
        let q = rng.normals(b * s * d, std: 30), k = rng.normals(b * s * d, std: 30), v = rng.normals(b * s * d)
        let mask = rng.paddingMask(b: b, s: s)
        let shape: Shape = [b, s, d]
        let out = try backend.zeros(shape)
        try backend.attention(query: backend.f32(shape, q), key: backend.f32(shape, k), value: backend.f32(shape, v),
                              mask: backend.i32([b, s], mask), heads: 1, scale: nil, into: out)
        let expected = Reference.attention(q: q.doubles, k: k.doubles, v: v.doubles, mask: mask, b: b, s: s, heads: 1, d: d,
                                           scale: 1 / Double(d).squareRoot())
        let got = try backend.values(out)
        #expect(!Compare.hasNaN(got))
        // Logits of order 1e3 (exp overflows without the max shift): float32 rounding of q·k shifts near-ties, so compare loosely.
        #expect(Compare.maxAbsoluteError(got, expected) < 1e-2, "\(TestSeed.replay)")
    }

    @Test(arguments: TestBackends.names)
    func rejectsBadShapes(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        let q = try backend.zeros([2, 3, 10])
        let heads = #expect(throws: QuiverError.self) {
            try backend.attention(query: q, key: q, value: q, mask: backend.zeros([2, 3], .i32), heads: 3, scale: nil, into: backend.zeros([2, 3, 10]))
        }
        #expect(heads?.description.contains("heads = 3") == true)
        let mask = #expect(throws: QuiverError.self) {
            try backend.attention(query: q, key: q, value: q, mask: backend.zeros([3, 2], .i32), heads: 2, scale: nil, into: backend.zeros([2, 3, 10]))
        }
        #expect(mask?.description.contains("[3, 2]") == true)
        #expect(throws: QuiverError.self) {
            try backend.attention(query: q, key: backend.zeros([2, 4, 10]), value: q, mask: backend.zeros([2, 3], .i32), heads: 2, scale: nil, into: backend.zeros([2, 3, 10]))
        }
    }
}
