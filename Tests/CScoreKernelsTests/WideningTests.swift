import CScoreKernels
import Testing

/// Widening f16 and int8 catalog rows to f32: the F16C/AVX2 path and the portable C path both
/// give exactly Swift's conversion, for every f16 and int8 value and at lengths that leave tails.
@Suite(.serialized) struct WideningTests {
    /// Widens `halves` with the automatic path and with the portable one.
    static func bothWays(_ halves: [UInt16]) -> ([Float], [Float]) {
        var fast = [Float](repeating: -1, count: halves.count), portable = fast
        qsk_widen_f16(halves, halves.count, &fast)
        qsk_force_portable_packing(1)
        qsk_widen_f16(halves, halves.count, &portable)
        qsk_force_portable_packing(0)
        return (fast, portable)
    }

    static func same(_ a: Float, _ b: Float) -> Bool { a.isNaN ? b.isNaN : a.bitPattern == b.bitPattern }

    @Test func everyF16Value() {
        let halves = (0...0xFFFF).map { UInt16($0) }
        let (fast, portable) = Self.bothWays(halves)
        let wrong = halves.indices.filter { i in
            let want = Float(Float16(bitPattern: halves[i]))
            return !Self.same(want, fast[i]) || !Self.same(want, portable[i])
        }
        #expect(wrong.isEmpty, "f16 patterns widened wrongly: \(wrong.prefix(8).map { String($0, radix: 16) })")
    }

    @Test(arguments: [0, 1, 7, 15, 16, 17, 383, 385])
    func tailsAreWidenedAndNothingPastIsWritten(count: Int) {
        var rng = SystemRandomNumberGenerator()
        let halves = (0..<count).map { _ in Float16(Float.random(in: -4...4, using: &rng)).bitPattern }
        let bytes = (0..<count).map { _ in Int8.random(in: .min ... .max, using: &rng) }
        var f = [Float](repeating: .nan, count: count + 3), i = f
        qsk_widen_f16(halves, count, &f)
        qsk_widen_i8(bytes, count, &i)
        #expect((0..<count).allSatisfy { f[$0] == Float(Float16(bitPattern: halves[$0])) })
        #expect((0..<count).allSatisfy { i[$0] == Float(bytes[$0]) })
        #expect(f[count...].allSatisfy(\.isNaN) && i[count...].allSatisfy(\.isNaN))
    }

    @Test func everyInt8Value() {
        let bytes = (-128...127).map { Int8($0) }
        var out = [Float](repeating: 0, count: bytes.count)
        qsk_widen_i8(bytes, bytes.count, &out)
        #expect(out == bytes.map { Float($0) })
    }
}
