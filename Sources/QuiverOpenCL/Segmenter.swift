import COpenCL
import QuiverCore

/// An operand of an op that runs over ranges of "units" (rows, batch entries, K-blocks, …), and
/// how many of its elements make one unit.
struct SplitOperand {
    let tensor: OpenCLTensor
    let name: String
    /// Elements of `tensor` per unit of the op's iteration axis.
    let unitElements: Int
}

/// A range of units `[start, start + count)` that lies inside one chunk of every operand, with
/// each operand's buffer and the element offset of unit `start` in it (same order as the operands).
struct Piece {
    let start: Int
    let count: Int
    let buffers: [(mem: cl_mem, offset: Int)]
}

/// Cuts an op's iteration range at the chunk boundaries of all its operands, so every kernel
/// launch sees each operand as one buffer plus an element offset.
enum Segmenter {
    /// Largest number of elements a single launch may address in one operand: kernels index with
    /// 32-bit ints from a 64-bit base offset, so each launch stays below 2^31 elements.
    static let maxLaunchElements = 1 << 30

    /// The pieces covering `units` units. Each piece has at most `maxUnitsPerPiece` units
    /// (callers also bound it so `count · unitElements` ≤ `maxLaunchElements`).
    /// Throws when an operand is split inside a unit (a single unit larger than the allocation limit).
    static func pieces(op: String, units: Int, operands: [SplitOperand], maxUnitsPerPiece: Int = .max) throws -> [Piece] {
        guard units > 0 else { return [] }
        var cuts: Set<Int> = [0, units]
        var perPiece = max(1, maxUnitsPerPiece)
        for operand in operands where !operand.tensor.chunks.isEmpty {
            let ue = max(operand.unitElements, 1)
            perPiece = min(perPiece, max(1, maxLaunchElements / ue))
            for chunk in operand.tensor.chunks.dropFirst() {
                guard chunk.elementStart % ue == 0 else {
                    throw QuiverError.invalidArgument(
                        "\(op): \(operand.name) \(operand.tensor.shape) is split across device buffers inside one unit of "
                            + "\(ue) elements (element \(chunk.elementStart)); a single row/slice exceeds the device's largest allocation")
                }
                cuts.insert(chunk.elementStart / ue)
            }
        }
        let sorted = cuts.sorted()
        var result: [Piece] = []
        for (lo, hi) in zip(sorted, sorted.dropFirst()) where hi > lo {
            var start = lo
            while start < hi {
                let count = min(perPiece, hi - start)
                result.append(Piece(start: start, count: count,
                                    buffers: operands.map { locate($0, unit: start) }))
                start += count
            }
        }
        return result
    }

    /// The chunk holding unit `unit` of an operand and the element offset of that unit in it.
    static func locate(_ operand: SplitOperand, unit: Int) -> (mem: cl_mem, offset: Int) {
        let chunks = operand.tensor.chunks
        guard !chunks.isEmpty else { return (operand.tensor.context.dummy, 0) }
        let element = unit * operand.unitElements
        for c in chunks where element >= c.elementStart && element < c.elementEnd {
            return (c.mem, element - c.elementStart)
        }
        // Past the end (zero-width unit): the last chunk, at its end.
        let last = chunks[chunks.count - 1]
        return (last.mem, min(element - last.elementStart, last.elementCount))
    }
}
