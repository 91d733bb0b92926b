/// Host memory for tensors: owned, zero-filled and 64-byte aligned, or borrowed from an owner
/// that keeps it alive (a memory-mapped file). Reference type so tensors share it without copies.
public final class TensorStorage: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let byteCount: Int
    /// What keeps borrowed memory alive; nil when this storage owns its bytes.
    private let owner: AnyObject?

    /// Zero-filled storage of `byteCount` bytes.
    public init(byteCount: Int) {
        self.byteCount = byteCount
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        pointer.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
        owner = nil
    }

    /// Storage over `bytes`, which stay valid while `owner` lives. Read-only in spirit: nothing
    /// that takes a borrowed storage may write through it (mapped files are read-only).
    public init(borrowing bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        byteCount = bytes.count
        pointer = UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!)
        self.owner = owner
    }

    deinit { if owner == nil { pointer.deallocate() } }
}

/// A host tensor: a shape, a dtype and row-major storage.
///
/// Storage is shared between copies of a `Tensor` value (reference semantics for the bytes);
/// make a new tensor when you need an independent copy.
public struct Tensor: Sendable {
    public let shape: Shape
    public let dtype: DType
    public let storage: TensorStorage

    /// A zero-filled tensor.
    public init(zeros shape: Shape, _ dtype: DType = .f32) {
        self.shape = shape
        self.dtype = dtype
        storage = TensorStorage(byteCount: shape.count * dtype.size)
    }

    /// An f32 tensor holding `values` (row-major); `values.count` must equal `shape.count`.
    public init(shape: Shape, floats values: [Float]) throws {
        try self.init(shape: shape, dtype: .f32, values: values)
    }

    /// An i32 tensor holding `values` (row-major).
    public init(shape: Shape, int32s values: [Int32]) throws {
        try self.init(shape: shape, dtype: .i32, values: values)
    }

    /// An f16 tensor holding `values` rounded to half precision (round to nearest even).
    public init(shape: Shape, halves values: [Float]) throws {
        try self.init(shape: shape, dtype: .f16, values: values.map { Float16($0) })
    }

    /// An i8 tensor holding `values`.
    public init(shape: Shape, int8s values: [Int8]) throws {
        try self.init(shape: shape, dtype: .i8, values: values)
    }

    private init<T>(shape: Shape, dtype: DType, values: [T]) throws {
        guard values.count == shape.count else {
            throw QuiverError.shapeMismatch(
                op: "Tensor", detail: "\(values.count) values do not fill shape \(shape) (\(shape.count) elements)")
        }
        self.init(zeros: shape, dtype)
        values.withUnsafeBytes { storage.pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    public var byteCount: Int { shape.count * dtype.size }

    /// The same storage seen with another shape of the same element count.
    public func reshaped(_ newShape: Shape) throws -> Tensor {
        guard newShape.count == shape.count else {
            throw QuiverError.shapeMismatch(op: "reshape", detail: "cannot view \(shape) as \(newShape)")
        }
        return Tensor(shape: newShape, dtype: dtype, storage: storage)
    }

    public init(shape: Shape, dtype: DType, storage: TensorStorage) {
        self.shape = shape
        self.dtype = dtype
        self.storage = storage
    }

    /// The elements as Float, converting from any dtype (f16 widened, integers cast).
    public func floats() -> [Float] {
        let n = shape.count
        let p = storage.pointer
        switch dtype {
        case .f32: return Array(UnsafeBufferPointer(start: p.assumingMemoryBound(to: Float.self), count: n))
        case .f16: return UnsafeBufferPointer(start: p.assumingMemoryBound(to: Float16.self), count: n).map(Float.init)
        case .i32: return UnsafeBufferPointer(start: p.assumingMemoryBound(to: Int32.self), count: n).map(Float.init)
        case .i8: return UnsafeBufferPointer(start: p.assumingMemoryBound(to: Int8.self), count: n).map(Float.init)
        }
    }

    /// The elements of an i32 tensor.
    public func int32s() throws -> [Int32] {
        guard dtype == .i32 else {
            throw QuiverError.unsupportedDType(op: "int32s", operand: "tensor", dtype: dtype, expected: [.i32])
        }
        return Array(UnsafeBufferPointer(start: storage.pointer.assumingMemoryBound(to: Int32.self), count: shape.count))
    }

    /// Raw read access to the bytes.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage.pointer, count: byteCount))
    }

    /// Raw write access to the bytes.
    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(start: storage.pointer, count: byteCount))
    }
}
