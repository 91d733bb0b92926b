import Dispatch
import QuiverCore

/// One read of every value of a row-major matrix: squared L2 norm per row, and the first row that
/// holds a NaN or an infinity. Rows are split over `threads` cores.
enum RowScan {
    struct Result {
        /// ‖row‖² per row (f32 accumulation in 16 lanes).
        var squaredNorms: [Float]
        /// The first row with a non-finite value, or nil.
        var firstNonFinite: Int?
    }

    /// Scans `tensor` (`[rows, dim]` f32, f16 or i8); i8 values are multiplied by `scales[row]`.
    static func scan(_ tensor: Tensor, scales: [Float]? = nil, threads: Int) -> Result {
        let (rows, d) = (tensor.shape.dims[0], tensor.shape.last)
        var norms = [Float](repeating: 0, count: rows)
        let chunks = max(1, min(threads * 4, rows / 1024))
        let bad = UnsafeMutablePointer<Int>.allocate(capacity: chunks)
        bad.initialize(repeating: Int.max, count: chunks)
        defer { bad.deallocate() }
        norms.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            nonisolated(unsafe) let bad = bad
            nonisolated(unsafe) let p = UnsafeRawPointer(tensor.storage.pointer)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let range = (rows * c / chunks)..<(rows * (c + 1) / chunks)
                for r in range {
                    let s = squaredNorm(p, row: r, dim: d, dtype: tensor.dtype) * (scales.map { $0[r] * $0[r] } ?? 1)
                    out[r] = s
                    if !s.isFinite, !rowIsFinite(p, row: r, dim: d, dtype: tensor.dtype), bad[c] == Int.max { bad[c] = r }
                    if let scales, !scales[r].isFinite, bad[c] == Int.max { bad[c] = r }
                }
            }
        }
        let first = (0..<chunks).map { bad[$0] }.min().flatMap { $0 == Int.max ? nil : $0 }
        return Result(squaredNorms: norms, firstNonFinite: first)
    }

    private static func squaredNorm(_ p: UnsafeRawPointer, row r: Int, dim d: Int, dtype: DType) -> Float {
        var acc = SIMD16<Float>()
        var tail: Float = 0
        let full = d / 16 * 16
        switch dtype {
        case .f32:
            let x = p.assumingMemoryBound(to: Float.self) + r * d
            for j in stride(from: 0, to: full, by: 16) {
                let v = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD16<Float>.self)
                acc += v * v
            }
            for j in full..<d { tail += x[j] * x[j] }
        case .f16:
            let x = p.assumingMemoryBound(to: Float16.self) + r * d
            for j in stride(from: 0, to: full, by: 16) {
                let v = SIMD16<Float>(UnsafeRawPointer(x + j).loadUnaligned(as: SIMD16<Float16>.self))
                acc += v * v
            }
            for j in full..<d { tail += Float(x[j]) * Float(x[j]) }
        case .i8:
            let x = p.assumingMemoryBound(to: Int8.self) + r * d
            for j in 0..<d { tail += Float(x[j]) * Float(x[j]) }
        case .i32:
            return .nan
        }
        return acc.sum() + tail
    }

    private static func rowIsFinite(_ p: UnsafeRawPointer, row r: Int, dim d: Int, dtype: DType) -> Bool {
        switch dtype {
        case .f32: return UnsafeBufferPointer(start: p.assumingMemoryBound(to: Float.self) + r * d, count: d).allSatisfy(\.isFinite)
        case .f16: return UnsafeBufferPointer(start: p.assumingMemoryBound(to: Float16.self) + r * d, count: d).allSatisfy(\.isFinite)
        default: return true
        }
    }
}
