import Dispatch
import Foundation
import QuiverCore

/// Seeded random matrices for the GPU suite, generated in parallel and identical for a given seed
/// whatever the core count.
///
/// Values are multiples of 1/16 in [−1, 1] (33 levels). Products are then multiples of 1/256
/// and every sum of up to 2¹⁶ of them is exact in float32, so a dot product or GEMM entry has the
/// same value in any summation order, on any backend; f16 holds the values exactly too. Device
/// and CPU results can therefore be compared bit for bit (ties resolved by the tie rule
/// included), which a check against random floats cannot do without tolerances.
public enum SyntheticData {
    /// Values per independently seeded chunk (fixed, so the output does not depend on threads).
    static let chunk = 1 << 16

    /// `count` grid values from `seed`; `stream` separates independent sets with the same seed
    /// (catalog, queries, GEMM operands).
    public static func gridValues(count: Int, seed: UInt64, stream: UInt64) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { buffer in
            fill(buffer, seed: seed, stream: stream, firstValue: 0)
        }
        return out
    }

    /// Fills `buffer` with the values `firstValue ..< firstValue + buffer.count` of the sequence
    /// (`firstValue` a multiple of the chunk size, so a catalog can be written block by block).
    static func fill(_ buffer: UnsafeMutableBufferPointer<Float>, seed: UInt64, stream: UInt64, firstValue: Int) {
        precondition(firstValue % chunk == 0, "blocks must start on a chunk boundary")
        nonisolated(unsafe) let base = buffer.baseAddress!
        let count = buffer.count
        let chunks = (count + chunk - 1) / chunk
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let index = UInt64(firstValue / chunk + c)
            var random = BenchRandom(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ stream &* 0xD1B5_4A32_D192_ED03 ^ index &* 0x94D0_49BB_1331_11EB)
            let start = c * chunk, end = min(count, start + chunk)
            var i = start
            while i < end {
                var bits = random.next()
                for _ in 0..<8 where i < end {
                    // 0...32 from one byte (33·b/256), then centred: −16...16 sixteenths.
                    base[i] = Float(Int(((bits & 0xFF) * 33) >> 8) - 16) / 16
                    bits >>= 8
                    i += 1
                }
            }
        }
    }

    /// Writes a `[rows, dimension]` float32 `.npy` of grid values (`stream` 0 of `seed`) to `path`,
    /// in blocks of `chunk` rows (so each block starts on a chunk boundary), through a temporary
    /// file renamed when complete.
    public static func writeCatalog(rows: Int, dimension: Int, seed: UInt64, to path: String) throws {
        let writer = try NpyWriter(path: path, columns: dimension)
        let blockRows = chunk
        var block = [Float](repeating: 0, count: blockRows * dimension)
        var row = 0
        while row < rows {
            let n = min(blockRows, rows - row)
            block.withUnsafeMutableBufferPointer { buffer in
                fill(UnsafeMutableBufferPointer(rebasing: buffer[0..<(n * dimension)]), seed: seed, stream: 0, firstValue: row * dimension)
            }
            try writer.append(rows: n, n == blockRows ? block : Array(block[0..<(n * dimension)]))
            row += n
        }
        try writer.finish()
    }
}
