import Foundation
import QuiverCore

/// Where a scoring job's query vectors come from, read block by block in increasing order.
public protocol QuerySource: AnyObject {
    /// Number of queries.
    var count: Int { get }
    /// Query rows `range` as f32 `[range.count, dimension]`. Ranges come in increasing order.
    func block(_ range: Range<Int>) throws -> Tensor
}

/// Query vectors from a `.npy` file (f32 or f16 `[Q, dim]`), memory-mapped.
public final class NpyQueries: QuerySource {
    private let file: Npy.File
    public let count: Int
    public let dimension: Int

    public init(path: String) throws {
        file = try Npy.File(path: path)
        guard file.shape.rank == 2, file.dtype == .f32 || file.dtype == .f16 else {
            throw QuiverError.io(path: path, detail: "queries must be a 2-D float32 or float16 array [queries, dim], this one is \(file.dtype) \(file.shape)")
        }
        (count, dimension) = (file.shape[0], file.shape[1])
    }

    public func block(_ range: Range<Int>) throws -> Tensor {
        let out = Tensor(zeros: [range.count, dimension], .f32)
        let dst = out.storage.pointer.assumingMemoryBound(to: Float.self)
        let n = range.count * dimension, first = range.lowerBound * dimension
        file.withData { src in
            switch file.dtype {
            case .f16:
                let halves = src.baseAddress!.assumingMemoryBound(to: Float16.self) + first
                for i in 0..<n { dst[i] = Float(halves[i]) }
            default:
                UnsafeMutableRawPointer(dst).copyMemory(from: src.baseAddress! + 4 * first, byteCount: 4 * n)
            }
        }
        return out
    }
}

/// Query texts embedded with a sentence-transformers model, block by block.
public final class TextQueries: QuerySource {
    public let count: Int
    private let embedder: TextEmbedder
    private let input: TextInput
    private let batchSize: Int
    private var position = 0

    /// Counts the inputs of `path` once (for sharding and progress), then streams them.
    public init(path: String, format: TextInput.Format, embedder: TextEmbedder, batchSize: Int) throws {
        guard path != "-" else {
            throw QuiverError.invalidArgument("--texts needs a file (it is read twice: once to count, once to score), not standard input")
        }
        let counter = try TextInput(path: path, format: format)
        var n = 0
        while try counter.next() != nil { n += 1 }
        count = n
        input = try TextInput(path: path, format: format)
        self.embedder = embedder
        self.batchSize = batchSize
    }

    public func block(_ range: Range<Int>) throws -> Tensor {
        guard range.lowerBound >= position else {
            throw QuiverError.invalidArgument("TextQueries reads forward only: block \(range) requested after query \(position)")
        }
        while position < range.lowerBound, try input.next() != nil { position += 1 }
        let texts = try input.next(range.count)
        position += texts.count
        guard texts.count == range.count else {
            throw QuiverError.io(path: input.path, detail: "ended after \(position) inputs, \(count) were counted; was it changed while the job ran?")
        }
        let rows = try embedder.embed(texts, batchSize: batchSize)
        return try Tensor(shape: [texts.count, embedder.dimension], floats: rows)
    }
}
