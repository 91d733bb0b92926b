import Foundation
import QuiverCore

/// An item catalog: `rows` embeddings of `dimension` values, memory-mapped from disk and never
/// copied whole onto the heap.
///
/// Formats:
/// - `.npy`, float32 or float16, shape `[items, dim]`;
/// - `.safetensors` holding one 2-D F32/F16 tensor (or one named `embeddings` among others);
/// - Quiver's reduced forms (`quiver catalog convert`, `CatalogConversion`): `.safetensors` with
///   either `embeddings` (F16) or `rows` (I8 `[items, dim]`, symmetric per-row quantization) with
///   `scale` (F32 `[items]`, row ≈ scale · rows); both add `norm` (F32 `[items]`, ‖row‖₂ of the
///   original f32 row) and `error` (F32 `[items]`, ‖original − stored‖₂), which exact rescoring
///   needs.
///
/// Opening validates the header and sizes; `scan()` reads every value once (finite check, norms).
public final class Catalog: @unchecked Sendable {
    public let path: String
    public let rows: Int
    public let dimension: Int
    /// Storage type of the values: f32, f16 or i8 (i8 comes with `scales`).
    public let dtype: DType
    /// int8 catalogs: per-row dequantization scale `[rows]`.
    public let scales: [Float]?
    /// Reduced catalogs: per-row ‖original − stored‖₂ `[rows]`, when the file records it.
    public let quantizationError: [Float]?
    /// Reduced catalogs: per-row ‖original‖₂ `[rows]`, when the file records it.
    public let originalNorms: [Float]?
    /// Item ids from an ids file (one per line), or nil (items are named by row).
    public private(set) var ids: [String]?

    private let owner: AnyObject
    private let base: UnsafeRawPointer?

    public init(path: String) throws {
        self.path = path
        let lower = path.lowercased()
        if lower.hasSuffix(".npy") {
            let file = try Npy.File(path: path)
            guard file.shape.rank == 2, file.dtype == .f32 || file.dtype == .f16 else {
                throw QuiverError.io(path: path, detail: "a catalog must be a 2-D float32 or float16 array [items, dim], this one is \(file.dtype) \(file.shape)")
            }
            (rows, dimension, dtype, scales, quantizationError, originalNorms) = (file.shape[0], file.shape[1], file.dtype, nil, nil, nil)
            owner = file
            base = file.withData { $0.baseAddress }
        } else if lower.hasSuffix(".safetensors") {
            let file = try SafeTensors(path: path)
            owner = file
            if let q = file.entry("rows"), q.dtype == .I8 {
                guard q.shape.rank == 2 else { throw QuiverError.io(path: path, detail: "int8 catalog tensor 'rows' is \(q.shape), expected [items, dim]") }
                (rows, dimension, dtype) = (q.shape[0], q.shape[1], .i8)
                scales = try Catalog.vector(file, "scale", count: q.shape[0])
                quantizationError = try Catalog.optionalVector(file, "error", count: q.shape[0])
                originalNorms = try Catalog.optionalVector(file, "norm", count: q.shape[0])
                base = file.withBytes(q) { $0.baseAddress }
            } else {
                let candidates = file.entries.filter { $0.shape.rank == 2 && ($0.dtype == .F32 || $0.dtype == .F16) }
                guard let e = file.entry("embeddings") ?? (candidates.count == 1 ? candidates[0] : nil) else {
                    throw QuiverError.io(path: path, detail: "expected one 2-D F32/F16 tensor (or one named 'embeddings'); found \(file.entries.map { "\($0.name) \($0.dtype.rawValue) \($0.shape)" })")
                }
                guard e.shape.rank == 2, e.dtype == .F32 || e.dtype == .F16 else {
                    throw QuiverError.io(path: path, detail: "tensor '\(e.name)' is \(e.dtype.rawValue) \(e.shape); a catalog must be F32 or F16 [items, dim]")
                }
                (rows, dimension, dtype, scales) = (e.shape[0], e.shape[1], e.dtype == .F32 ? .f32 : .f16, nil)
                quantizationError = try Catalog.optionalVector(file, "error", count: e.shape[0])
                originalNorms = try Catalog.optionalVector(file, "norm", count: e.shape[0])
                base = file.withBytes(e) { $0.baseAddress }
            }
        } else {
            throw QuiverError.io(path: path, detail: "unknown catalog format; use .npy (float32/float16 [items, dim]) or .safetensors")
        }
        guard rows > 0, dimension > 0 else {
            throw QuiverError.io(path: path, detail: "the catalog is empty (\(rows) items × \(dimension) dims); nothing to score against")
        }
    }

    /// Reads item ids, one per line (a trailing newline is optional); their count must equal `rows`.
    public func loadIds(path idsPath: String) throws {
        guard let data = FileManager.default.contents(atPath: idsPath) else {
            throw QuiverError.io(path: idsPath, detail: "cannot read the ids file")
        }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard lines.count == rows else {
            throw QuiverError.io(path: idsPath, detail: "\(lines.count) ids for a catalog of \(rows) items (\(path)); the ids file needs one line per catalog row")
        }
        ids = lines
    }

    /// Bytes of one row.
    public var rowBytes: Int { dimension * dtype.size }

    /// Rows `range` as a host tensor `[range.count, dimension]` over the mapped bytes (no copy when
    /// the data is aligned for its type; an aligned copy otherwise). Valid while the catalog lives.
    public func tile(_ range: Range<Int>) -> Tensor {
        let start = base! + range.lowerBound * rowBytes
        let bytes = UnsafeRawBufferPointer(start: start, count: range.count * rowBytes)
        let shape = Shape([range.count, dimension])
        if Int(bitPattern: start) % dtype.size == 0 {
            return Tensor(shape: shape, dtype: dtype, storage: TensorStorage(borrowing: bytes, owner: owner))
        }
        let copy = Tensor(zeros: shape, dtype)
        copy.storage.pointer.copyMemory(from: start, byteCount: bytes.count)
        return copy
    }

    /// The item name of `row`: its id, or the row number.
    public func name(of row: Int) -> String { ids?[row] ?? String(row) }

    private static func optionalVector(_ file: SafeTensors, _ name: String, count: Int) throws -> [Float]? {
        file.entry(name) == nil ? nil : try vector(file, name, count: count)
    }

    private static func vector(_ file: SafeTensors, _ name: String, count: Int) throws -> [Float] {
        let t = try file.floatTensor(name)
        guard t.shape == Shape([count]) else {
            throw QuiverError.io(path: file.path, detail: "int8 catalog tensor '\(name)' is \(t.shape), expected [\(count)]")
        }
        return t.floats()
    }
}
