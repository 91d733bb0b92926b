import COpenCL
import QuiverCore

/// A tensor in OpenCL device memory: one `cl_mem` per chunk.
///
/// Tensors whose byte size exceeds the backend's maximum allocation are split along their first
/// axis at whole-slice boundaries into several buffers, each at most that size; ops iterate over
/// ranges that lie inside one chunk of every operand (see `Segmenter`). Buffers are released in
/// `deinit` (OpenCL keeps them alive until commands already enqueued on them finish).
public final class OpenCLTensor: DeviceTensor, @unchecked Sendable {
    /// One device buffer holding elements `[elementStart, elementStart + elementCount)` of the
    /// tensor (row-major flat index).
    struct Chunk {
        let mem: cl_mem
        let elementStart: Int
        let elementCount: Int
        var elementEnd: Int { elementStart + elementCount }
    }

    public let shape: Shape
    public let dtype: DType
    let chunks: [Chunk]
    /// Keeps the context alive as long as its buffers, and identifies the owning backend.
    let context: OpenCLContext

    /// Number of device buffers backing the tensor (0 for an empty tensor).
    public var bufferCount: Int { chunks.count }
    /// Total size in bytes.
    public var byteCount: Int { shape.count * dtype.size }

    /// Allocates a zero-filled tensor, split so that no buffer exceeds `maxAllocationBytes`.
    init(shape: Shape, dtype: DType, context: OpenCLContext, maxAllocationBytes: UInt64) throws {
        self.shape = shape
        self.dtype = dtype
        self.context = context
        var made: [Chunk] = []
        do {
            for (start, count) in try Self.plan(shape: shape, dtype: dtype, maxAllocationBytes: maxAllocationBytes) {
                let mem = try context.allocateZeroed(bytes: count * dtype.size)
                made.append(Chunk(mem: mem, elementStart: start, elementCount: count))
            }
        } catch {
            for c in made { _ = qclReleaseMemObject(c.mem) }
            throw error
        }
        chunks = made
    }

    deinit {
        for c in chunks { _ = qclReleaseMemObject(c.mem) }
    }

    /// Element ranges `(start, count)` of the chunks for a tensor of `shape`: one chunk when it fits,
    /// else as many whole first-axis slices per chunk as fit in `maxAllocationBytes`.
    static func plan(shape: Shape, dtype: DType, maxAllocationBytes: UInt64) throws -> [(Int, Int)] {
        let total = shape.count
        guard total > 0 else { return [] }
        if UInt64(total) * UInt64(dtype.size) <= maxAllocationBytes { return [(0, total)] }
        let sliceElements = shape.rank == 0 ? 1 : shape.sliceCount
        let sliceBytes = UInt64(sliceElements) * UInt64(dtype.size)
        let slicesPerChunk = Int(maxAllocationBytes / sliceBytes)
        guard slicesPerChunk >= 1 else {
            throw QuiverError.invalidArgument(
                "OpenCL: a \(shape) \(dtype) tensor cannot be stored: one slice of its first axis is \(sliceBytes) bytes, "
                    + "more than the largest single device allocation (\(maxAllocationBytes) bytes); "
                    + "tensors are split only along the first axis, so use a shape whose first-axis slices are smaller")
        }
        let slices = shape[0]
        return stride(from: 0, to: slices, by: slicesPerChunk).map { first in
            (first * sliceElements, min(slicesPerChunk, slices - first) * sliceElements)
        }
    }

    /// The single buffer of a tensor that an op reads whole (gamma, beta, bias): throws when the
    /// tensor is split; returns the placeholder buffer for an empty tensor.
    func wholeBuffer(op: String, operand: String) throws -> cl_mem {
        if chunks.isEmpty { return context.dummy }
        guard chunks.count == 1 else {
            throw QuiverError.invalidArgument(
                "\(op): \(operand) \(shape) is split across \(chunks.count) device buffers, but the op needs it in one; "
                    + "it exceeds the device's largest allocation")
        }
        return chunks[0].mem
    }
}
