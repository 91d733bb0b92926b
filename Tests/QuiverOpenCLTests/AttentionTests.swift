import QuiverCore
import QuiverOpenCL
import QuiverTestSupport
import Testing

@Suite struct AttentionTests {
    /// (batch, sequence, heads, head size): D = 32 (bge-small) and 64 (MiniLM/BERT), sequences
    /// shorter and longer than one key tile / query block.
    static let cases: [(b: Int, s: Int, heads: Int, d: Int)] = [(3, 7, 3, 32), (2, 70, 2, 64), (1, 1, 1, 32), (2, 33, 1, 64)]

    @Test(arguments: 0..<4)
    func matchesReferenceWithPaddedKeys(caseIndex: Int) throws {
        guard let be = try TestDevice.backend() else { return }
        let (b, s, heads, d) = Self.cases[caseIndex]
        var rng = SeededRandom(seed: UInt64(20 + caseIndex))
        let n = b * s * heads * d
        let q = rng.floats(n, in: -2...2), k = rng.floats(n, in: -2...2), v = rng.floats(n)
        // Batch entry bi keeps its first s - 3·bi tokens (padding at the end); the last entry of
        // the first case keeps none (output zeros).
        var mask = [Int32](repeating: 0, count: b * s)
        for bi in 0..<b { for t in 0..<max(0, s - 3 * bi) { mask[bi * s + t] = 1 } }
        if caseIndex == 0 { for t in 0..<s { mask[2 * s + t] = 0 } }
        let shape: Shape = [b, s, heads * d]
        let out = try be.buffer(shape, .f32)
        try be.attention(query: try be.f32(shape, q), key: try be.f32(shape, k), value: try be.f32(shape, v),
                         mask: try be.i32([b, s], mask), heads: heads, scale: nil, into: out)
        let want = Reference.attention(q: q.doubles, k: k.doubles, v: v.doubles, mask: mask, b: b, s: s, heads: heads, d: d,
                                       scale: 1 / Double(d).squareRoot())
        expectClose(try be.values(out), want, atol: 2e-5, rtol: 1e-4, "attention B=\(b) S=\(s) heads=\(heads) D=\(d)")
    }

    @Test func explicitScaleAndInterleavedMask() throws {
        guard let be = try TestDevice.backend() else { return }
        let (b, s, heads, d) = (2, 40, 2, 32)
        var rng = SeededRandom(seed: 30)
        let n = b * s * heads * d
        let q = rng.floats(n), k = rng.floats(n), v = rng.floats(n)
        let mask = (0..<(b * s)).map { Int32($0 % 3 == 1 ? 0 : 1) }
        let shape: Shape = [b, s, heads * d]
        let out = try be.buffer(shape, .f32)
        try be.attention(query: try be.f32(shape, q), key: try be.f32(shape, k), value: try be.f32(shape, v),
                         mask: try be.i32([b, s], mask), heads: heads, scale: 0.9, into: out)
        let want = Reference.attention(q: q.doubles, k: k.doubles, v: v.doubles, mask: mask, b: b, s: s, heads: heads, d: d, scale: 0.9)
        expectClose(try be.values(out), want, atol: 2e-5, rtol: 1e-4, "attention scale 0.9")
    }
}
