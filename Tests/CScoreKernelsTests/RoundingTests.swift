import CScoreKernels
import Testing

/// f32/f16/int8 → bf16 conversion (round to nearest, ties to even) and the packed item layout.
/// Packing is portable C, so these run on every CPU.
@Suite struct RoundingTests {
    @Test func f32TiesGoToEven() {
        let cases: [(Float, UInt16)] = [
            (1 + 0x1p-8, 0x3F80),              // halfway between 1 and 1 + 2^-7: even is 1
            (1 + 3 * 0x1p-8, 0x3F82),          // halfway between odd 1 + 2^-7 and even 1 + 2^-6: up
            (1 + 0x1p-8 + 0x1p-20, 0x3F81),    // just above halfway: up
            (1 + 0x1p-8 - 0x1p-20, 0x3F80),    // just below halfway: down
            (-(1 + 3 * 0x1p-8), 0xBF82),       // the same rule for negatives (magnitude)
            (3.140625, 0x4049),                // exactly representable: unchanged
            (0, 0x0000), (-0.0, 0x8000),
            (Float(bitPattern: 0x7F7F_8000), 0x7F80),  // halfway past bf16's largest (odd): inf
            (Float(bitPattern: 0x7F7F_7FFF), 0x7F7F),  // just below that halfway: largest finite
            (.greatestFiniteMagnitude, 0x7F80), (.infinity, 0x7F80), (-.infinity, 0xFF80),
        ]
        let bits = packedQueryBits(cases.map(\.0))
        for (index, (value, expected)) in cases.enumerated() {
            #expect(bits[index] == expected, "bf16(\(value)) = 0x\(String(bits[index], radix: 16)), expected 0x\(String(expected, radix: 16))")
        }
    }

    @Test func nanStaysNaN() {
        // A signalling NaN whose payload sits only in the low half would become inf if truncated.
        let bits = packedQueryBits([Float(bitPattern: 0x7F80_0001), Float(bitPattern: 0xFFC0_0000), .nan])
        for b in bits.prefix(3) { #expect(bf16Value(b).isNaN, "0x\(String(b, radix: 16)) is not NaN") }
        #expect(bits[1] & 0x8000 != 0, "sign of -NaN kept")
    }

    @Test func f16AndInt8Conversions() {
        let halves: [(UInt16, UInt16)] = [
            (0x3C04, 0x3F80),  // f16 1 + 2^-8: tie, down to even 1
            (0x3C0C, 0x3F82),  // f16 1 + 3·2^-8: tie, up to even
            (0x3C05, 0x3F81),  // f16 1 + 2^-8 + 2^-10: above the tie
            (0x7BFF, 0x4780),  // 65504 = (2 - 2^-10)·2^15 rounds up to 2^16
            (0x0001, 0x3380),  // smallest subnormal 2^-24, normal in bf16
            (0x03FF, 0x3880),  // largest subnormal (1 - 2^-10)·2^-14 rounds up to 2^-14
            (0x8000, 0x8000), (0x7C00, 0x7F80), (0xFC00, 0xFF80),
        ]
        let ints: [(Int8, UInt16)] = [(-128, 0xC300), (127, 0x42FE), (-1, 0xBF80), (0, 0), (77, 0x429A)]
        let f16 = PackedBuffer(byteCount: qsk_items_packed_bytes(1, Int32(halves.count)))
        let i8 = PackedBuffer(byteCount: qsk_items_packed_bytes(1, Int32(ints.count)))
        let kf = (halves.count + 1) / 2, ki = (ints.count + 1) / 2
        #expect(qsk_pack_items_f16(halves.map(\.0), 1, Int32(halves.count), Int32(halves.count), f16.base) == 0)
        #expect(qsk_pack_items_i8(ints.map(\.0), 1, Int32(ints.count), Int32(ints.count), i8.base) == 0)
        for (d, (h, expected)) in halves.enumerated() {
            let got = f16.item(panel: 0, pair: d / 2, lane: 0, half: d % 2, pairs: kf)
            #expect(got == expected, "f16 0x\(String(h, radix: 16)) → 0x\(String(got, radix: 16)), expected 0x\(String(expected, radix: 16))")
        }
        for (d, (v, expected)) in ints.enumerated() {
            let got = i8.item(panel: 0, pair: d / 2, lane: 0, half: d % 2, pairs: ki)
            #expect(got == expected, "int8 \(v) → 0x\(String(got, radix: 16))")
        }
        #expect(f16.item(panel: 0, pair: kf - 1, lane: 0, half: 1, pairs: kf) == 0, "odd D pads the last pair with 0")
    }

    /// Every element of the panel layout [⌈N/16⌉][⌈D/2⌉][16][2], padding included, against the
    /// reference rounding of its source element.
    @Test(arguments: ["f32", "f16", "i8"], [(1, 1), (17, 5), (40, 64), (33, 9), (50, 70), (3, 97)])
    func itemLayout(kind: String, size: (Int, Int)) {
        let (n, d) = size
        var rng = SeededRandom(seed: UInt64(n * 1000 + d))
        let rows = ItemRows.random(kind, n: n, d: d, using: &rng)
        let packed = PackedBuffer(byteCount: qsk_items_packed_bytes(Int32(n), Int32(d)))
        #expect(rows.pack(first: 0, n: n, d: d, into: packed.base) == 0)
        let kp = (d + 1) / 2
        var mismatches = 0
        for p in 0..<((n + 15) / 16) {
            for k in 0..<kp {
                for i in 0..<16 {
                    for j in 0..<2 {
                        let (r, c) = (p * 16 + i, 2 * k + j)
                        let expected = r < n && c < d ? rows.rounded(r * d + c) : 0
                        let got = bf16Value(packed.item(panel: p, pair: k, lane: i, half: j, pairs: kp))
                        if got != expected { mismatches += 1 }
                    }
                }
            }
        }
        #expect(mismatches == 0, "\(kind) [\(n), \(d)]: \(mismatches) packed elements differ")
    }

    @Test func queryLayoutPadsOddD() {
        let q: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        // Two rows of D = 5 from a [2, 5] array, stride 5: pairs (1,2) (3,4) (5,0) | (6,7) (8,9) (10,0).
        var words = [UInt32](repeating: 0xFFFF_FFFF, count: qsk_queries_packed_bytes(2, 5) / 4)
        #expect(words.count == 6)
        #expect(words.withUnsafeMutableBytes { qsk_pack_queries(q, 2, 5, 5, $0.baseAddress) } == 0)
        let values = words.flatMap { [bf16Value(UInt16(truncatingIfNeeded: $0)), bf16Value(UInt16($0 >> 16))] }
        #expect(values == [1, 2, 3, 4, 5, 0, 6, 7, 8, 9, 10, 0])
    }

    @Test func invalidArgumentsAreRejected() {
        let x = [Float](repeating: 1, count: 8)
        let out = PackedBuffer(byteCount: 1024)
        #expect(qsk_pack_items_f32(x, 2, 4, 3, out.base) == -1, "ldx < D")
        #expect(qsk_pack_items_f32(x, -1, 4, 4, out.base) == -1, "negative N")
        #expect(qsk_pack_queries(x, 1, 0, 4, out.base) == -1, "D = 0")
        #expect(qsk_pack_items_f32(nil, 1, 4, 4, out.base) == -1, "NULL rows")
        #expect(qsk_items_packed_bytes(17, 5) == 2 * 3 * 64)
        #expect(qsk_queries_packed_bytes(3, 5) == 3 * 3 * 4)
    }
}
