import CScoreKernels

/// Deterministic generator (SplitMix64) so a failure reproduces.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// bf16 value of `x` by arithmetic instead of bit tricks: keep 8 significant bits, ties to even.
/// Normal, finite inputs only (what the tests generate).
func bf16Reference(_ x: Float) -> Double {
    if x == 0 { return 0 }
    let scale = Double(sign: .plus, exponent: 7 - Int(x.exponent), significand: 1)  // x·scale ∈ [128, 256)
    return (Double(x) * scale).rounded(.toNearestOrEven) / scale
}

/// bf16 bit pattern as a Double (bf16 is the top half of an f32).
func bf16Value(_ bits: UInt16) -> Double { Double(Float(bitPattern: UInt32(bits) << 16)) }

/// The bf16 bit patterns qsk_pack_queries produces for one row of `values`.
func packedQueryBits(_ values: [Float]) -> [UInt16] {
    let d = values.count
    var words = [UInt32](repeating: 0xDEAD_BEEF, count: qsk_queries_packed_bytes(1, Int32(d)) / 4)
    let rc = values.withUnsafeBufferPointer { v in
        words.withUnsafeMutableBytes { qsk_pack_queries(v.baseAddress, 1, Int32(d), Int32(d), $0.baseAddress) }
    }
    precondition(rc == 0, "qsk_pack_queries returned \(rc)")
    return words.flatMap { [UInt16(truncatingIfNeeded: $0), UInt16($0 >> 16)] }
}

/// A 64-byte aligned byte buffer for packed panels, filled with a sentinel to catch gaps.
final class PackedBuffer {
    let bytes: UnsafeMutableRawBufferPointer
    init(byteCount: Int) {
        bytes = .allocate(byteCount: max(byteCount, 64), alignment: 64)
        bytes.initializeMemory(as: UInt8.self, repeating: 0xA5)
    }
    deinit { bytes.deallocate() }
    var base: UnsafeMutableRawPointer { bytes.baseAddress! }
    /// The bf16 at packed item layout [p][k][i][j] (see CScoreKernels.h).
    func item(panel p: Int, pair k: Int, lane i: Int, half j: Int, pairs kp: Int) -> UInt16 {
        base.load(fromByteOffset: (((p * kp + k) * 16 + i) * 2 + j) * 2, as: UInt16.self)
    }
}

/// Catalog rows of one storage type, with their values as the kernel sees them after packing.
enum ItemRows {
    case f32([Float]), f16([UInt16]), i8([Int8])

    /// Random [n, d] rows in [-1, 1] (int8: [-127, 127]).
    static func random(_ kind: String, n: Int, d: Int, using rng: inout SeededRandom) -> ItemRows {
        switch kind {
        case "f16": .f16((0..<(n * d)).map { _ in Float16(Float.random(in: -1...1, using: &rng)).bitPattern })
        case "i8": .i8((0..<(n * d)).map { _ in Int8.random(in: -127...127, using: &rng) })
        default: .f32((0..<(n * d)).map { _ in Float.random(in: -1...1, using: &rng) })
        }
    }

    /// Element i as a bf16-rounded Double (reference rounding, independent of the packer's).
    func rounded(_ i: Int) -> Double {
        switch self {
        case .f32(let v): bf16Reference(v[i])
        case .f16(let v): bf16Reference(Float(Float16(bitPattern: v[i])))
        case .i8(let v): Double(v[i])
        }
    }

    /// Packs rows [first, first + n) (row length d, stride d) into `out` at byte offset `offset`.
    func pack(first: Int, n: Int, d: Int, into out: UnsafeMutableRawPointer) -> Int32 {
        switch self {
        case .f32(let v): v.withUnsafeBufferPointer { qsk_pack_items_f32($0.baseAddress! + first * d, Int32(n), Int32(d), Int32(d), out) }
        case .f16(let v): v.withUnsafeBufferPointer { qsk_pack_items_f16($0.baseAddress! + first * d, Int32(n), Int32(d), Int32(d), out) }
        case .i8(let v): v.withUnsafeBufferPointer { qsk_pack_items_i8($0.baseAddress! + first * d, Int32(n), Int32(d), Int32(d), out) }
        }
    }
}
