import Dispatch
import QuiverCore
import Synchronization

/// Writes a reduced-precision copy of an f32 catalog (`quiver catalog convert`), streamed in
/// blocks of rows so memory stays bounded. Formats are described on `Catalog`.
///
/// int8: symmetric per-row quantization, scale = max|x| / 127, q = round(x / scale) — every row
/// keeps 8 bits of relative precision whatever its magnitude. f16: round to nearest even.
/// Both record ‖x‖ and the error ‖x − stored‖ per row, from which `Scorer` bounds how far an
/// approximate score can be from the exact one.
public enum CatalogConversion {
    public enum Precision: String, Sendable, CaseIterable { case f16, int8 }

    /// Rows converted per block.
    static let blockRows = 16384

    public static func convert(_ source: Catalog, to precision: Precision, output: String) throws {
        guard source.dtype == .f32 else {
            throw QuiverError.io(path: source.path, detail: "convert reads float32 catalogs; this one is \(source.dtype)")
        }
        let (n, d) = (source.rows, source.dimension)
        // Filled by the values' producer, written after it; freed when the write returns.
        nonisolated(unsafe) let norms = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        nonisolated(unsafe) let errors = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        nonisolated(unsafe) let scales = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
        defer { norms.deallocate(); errors.deallocate(); scales.deallocate() }
        let blocks = (n + blockRows - 1) / blockRows
        let badRow = Mutex<Int?>(nil)
        let valuesName = precision == .f16 ? "embeddings" : "rows"
        let valuesType: SafeTensors.StoredType = precision == .f16 ? .F16 : .I8
        // The values go first and fill norms/errors/scales as they stream; the vectors follow.
        let values = SafeTensorsWriter.Item(name: valuesName, dtype: valuesType, shape: [n, d]) { emit in
            for b in 0..<blocks {
                let range = (b * blockRows)..<min((b + 1) * blockRows, n)
                let tile = source.tile(range)
                nonisolated(unsafe) let src = UnsafePointer(tile.storage.pointer.assumingMemoryBound(to: Float.self))
                var out = [UInt8](repeating: 0, count: range.count * d * (precision == .f16 ? 2 : 1))
                out.withUnsafeMutableBytes { raw in
                    nonisolated(unsafe) let raw = raw
                    DispatchQueue.concurrentPerform(iterations: range.count) { r in
                        let x = src + r * d, row = range.lowerBound + r
                        let limit: Float = precision == .f16 ? Float(Float16.greatestFiniteMagnitude) : .greatestFiniteMagnitude
                        if !(0..<d).allSatisfy({ x[$0].isFinite && abs(x[$0]) <= limit }) {
                            badRow.withLock { $0 = min($0 ?? row, row) }
                            return
                        }
                        var norm2: Double = 0, err2: Double = 0
                        if precision == .f16 {
                            let dst = raw.baseAddress!.assumingMemoryBound(to: Float16.self) + r * d
                            for j in 0..<d {
                                let h = Float16(x[j])
                                dst[j] = h
                                norm2 += Double(x[j]) * Double(x[j])
                                err2 += (Double(x[j]) - Double(h)) * (Double(x[j]) - Double(h))
                            }
                        } else {
                            let dst = raw.baseAddress!.assumingMemoryBound(to: Int8.self) + r * d
                            let maxAbs = (0..<d).reduce(Float(0)) { max($0, abs(x[$1])) }
                            let scale = maxAbs > 0 ? maxAbs / 127 : 1
                            scales[row] = scale
                            for j in 0..<d {
                                let q = Int8(max(-127, min(127, (x[j] / scale).rounded())))
                                dst[j] = q
                                let back = Double(scale) * Double(q)
                                norm2 += Double(x[j]) * Double(x[j])
                                err2 += (Double(x[j]) - back) * (Double(x[j]) - back)
                            }
                        }
                        norms[row] = Float(norm2.squareRoot())
                        // Rounded up so the stored bound is never below the true error.
                        errors[row] = Float(err2.squareRoot()).nextUp
                    }
                }
                if let row = badRow.withLock({ $0 }) {
                    throw QuiverError.io(path: source.path, detail: precision == .f16
                        ? "row \(row) has NaN, infinity or a value beyond float16's ±65504; fix it or convert to int8"
                        : "row \(row) has NaN or infinity; fix or drop that item")
                }
                try out.withUnsafeBytes { try emit($0) }
            }
        }
        // The producer runs inside the write below; a bad row found there aborts the write
        // (no output) and is reported here.
        var items = [values]
        items.append(.init(name: "norm", dtype: .F32, shape: [n]) { emit in try emit(UnsafeRawBufferPointer(norms)) })
        items.append(.init(name: "error", dtype: .F32, shape: [n]) { emit in try emit(UnsafeRawBufferPointer(errors)) })
        if precision == .int8 {
            items.append(.init(name: "scale", dtype: .F32, shape: [n]) { emit in try emit(UnsafeRawBufferPointer(scales)) })
        }
        try SafeTensorsWriter.write(items, metadata: ["format": "quiver-catalog/1", "precision": precision.rawValue], to: output)
    }
}
