import QuiverCore

/// A tensor owned by the CPU backend: row-major elements in 64-byte aligned host memory. Only
/// `CPUBackend` ops accept it.
public final class CPUTensor: DeviceTensor, @unchecked Sendable {
    public let shape: Shape
    public let dtype: DType
    /// Owns the bytes (upload/download copy), or borrows a host tensor's for a `view`.
    let storage: TensorStorage
    /// Where the bytes go back when this tensor is released (nil: they are freed, or borrowed).
    private let pool: CPUBufferPool?

    /// A tensor over `storage` from `pool`, which takes the storage back when the tensor goes.
    init(shape: Shape, dtype: DType, storage: TensorStorage, pool: CPUBufferPool) {
        self.shape = shape
        self.dtype = dtype
        self.storage = storage
        self.pool = pool
    }

    /// A tensor over `storage`'s bytes, no copy (`CPUBackend.view`).
    init(shape: Shape, dtype: DType, sharing storage: TensorStorage) {
        self.shape = shape
        self.dtype = dtype
        self.storage = storage
        pool = nil
    }

    deinit { pool?.recycle(storage) }

    /// Start of the elements (64-byte aligned). For same-module code and benchmarks; ops on this
    /// tensor must not run while you write through it.
    public var data: UnsafeMutableRawPointer { storage.pointer }

    /// Size of the elements in bytes.
    public var byteCount: Int { shape.count * dtype.size }

    var floats: UnsafeMutablePointer<Float> { storage.pointer.assumingMemoryBound(to: Float.self) }
    var int32s: UnsafeMutablePointer<Int32> { storage.pointer.assumingMemoryBound(to: Int32.self) }
    var halves: UnsafeMutablePointer<Float16> { storage.pointer.assumingMemoryBound(to: Float16.self) }
    var int8s: UnsafeMutablePointer<Int8> { storage.pointer.assumingMemoryBound(to: Int8.self) }
}
