import CScoreKernels
import Testing

/// The AVX-512 packing and the portable C packing produce the same bytes, and both round like the
/// arithmetic reference, over every f16 and int8 value and a million random f32 bit patterns
/// (NaN, inf, subnormals included). The portable path is forced process-wide for a moment; tests
/// running alongside then pack with it too, which is harmless because the bytes are the same.
@Suite(.serialized) struct PackingPathsTests {
    /// Packs `rows` both ways and returns (automatic, portable) bytes.
    static func bothWays(_ rows: ItemRows, n: Int, d: Int) -> ([UInt8], [UInt8]) {
        let bytes = qsk_items_packed_bytes(Int32(n), Int32(d))
        let fast = PackedBuffer(byteCount: bytes), portable = PackedBuffer(byteCount: bytes)
        #expect(rows.pack(first: 0, n: n, d: d, into: fast.base) == 0)
        qsk_force_portable_packing(1)
        #expect(rows.pack(first: 0, n: n, d: d, into: portable.base) == 0)
        qsk_force_portable_packing(0)
        return (Array(fast.bytes.prefix(bytes)), Array(portable.bytes.prefix(bytes)))
    }

    /// bf16 bits at packed position of row-major element `e` of an [n, d] tile.
    static func bits(_ packed: [UInt8], element e: Int, d: Int) -> UInt16 {
        let (r, c, kp) = (e / d, e % d, (d + 1) / 2)
        let offset = ((((r / 16) * kp + c / 2) * 16 + r % 16) * 2 + c % 2) * 2
        return UInt16(packed[offset]) | UInt16(packed[offset + 1]) << 8
    }

    @Test func everyF16Value() {
        // 65536 patterns as [2048, 32]; D = 32 is one full block of pairs per row.
        let halves = (0...0xFFFF).map { UInt16($0) }
        let (fast, portable) = Self.bothWays(.f16(halves), n: 2048, d: 32)
        #expect(fast == portable)
        var wrong: [String] = []
        for (e, h) in halves.enumerated() {
            let value = Float(Float16(bitPattern: h)), got = Self.bits(fast, element: e, d: 32)
            let ok = value.isNaN ? bf16Value(got).isNaN : bf16Value(got) == (value.isInfinite ? Double(value) : bf16Reference(value))
            if !ok { wrong.append("0x\(String(h, radix: 16))→0x\(String(got, radix: 16))") }
        }
        #expect(wrong.isEmpty, "f16 values rounded wrongly: \(wrong.prefix(8))")
    }

    @Test func everyInt8Value() {
        let values = (-128...127).map { Int8($0) }
        let (fast, portable) = Self.bothWays(.i8(values), n: 8, d: 32)
        #expect(fast == portable)
        for (e, v) in values.enumerated() { #expect(bf16Value(Self.bits(fast, element: e, d: 32)) == Double(v)) }
    }

    @Test func randomF32BitPatterns() {
        var rng = SeededRandom(seed: 42)
        let (n, d) = (4096, 256)
        let values = (0..<(n * d)).map { _ in Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) }
        let (fast, portable) = Self.bothWays(.f32(values), n: n, d: d)
        #expect(fast == portable)
        var checked = 0, wrong = 0
        for (e, v) in values.enumerated() where v.isNormal && abs(v) < 0x1p127 {
            checked += 1
            if bf16Value(Self.bits(fast, element: e, d: d)) != bf16Reference(v) { wrong += 1 }
        }
        #expect(checked > n * d / 2 && wrong == 0, "\(wrong) of \(checked) normal f32 values rounded wrongly")
    }

    /// Tails: D not a multiple of 32 (masked loads), odd D, N not a multiple of 16, ldx > D.
    @Test(arguments: ["f32", "f16", "i8"], [(37, 70), (16, 64), (5, 33), (40, 1), (19, 95)])
    func pathsAgreeOnTails(kind: String, size: (Int, Int)) {
        let (n, d) = size
        var rng = SeededRandom(seed: UInt64(n * 7919 + d))
        let rows = ItemRows.random(kind, n: n, d: d, using: &rng)
        let (fast, portable) = Self.bothWays(rows, n: n, d: d)
        #expect(fast == portable, "\(kind) [\(n), \(d)]")
        // Queries (one layout for both paths) from the first rows of an f32 tile, stride d + 3.
        let q = (0..<(n * (d + 3))).map { _ in Float.random(in: -4...4, using: &rng) }
        let words = qsk_queries_packed_bytes(Int32(n), Int32(d)) / 4
        var a = [UInt32](repeating: 1, count: words), b = [UInt32](repeating: 2, count: words)
        #expect(a.withUnsafeMutableBytes { qsk_pack_queries(q, Int32(n), Int32(d), Int32(d + 3), $0.baseAddress) } == 0)
        qsk_force_portable_packing(1)
        #expect(b.withUnsafeMutableBytes { qsk_pack_queries(q, Int32(n), Int32(d), Int32(d + 3), $0.baseAddress) } == 0)
        qsk_force_portable_packing(0)
        #expect(a == b, "queries [\(n), \(d)]")
    }
}
