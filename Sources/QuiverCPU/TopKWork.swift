import CBLAS
import CScoreKernels
import QuiverCore

/// One `similarityTopK` call's operands, and the blocked loop that scores a range of its queries
/// against the whole tile: per 1024-row item block (widened or bf16-packed when needed), a score
/// block from sgemm or the bf16 kernel, then each query's threshold scan into its heap.
/// Safe to run on disjoint query ranges concurrently (each run owns its buffers and heaps).
struct TopKWork: @unchecked Sendable {
    let queries: UnsafeMutablePointer<Float>
    let tile: CPUTensor
    let scale: UnsafeMutablePointer<Float>?
    let bias: UnsafeMutablePointer<Float>?
    let firstRow: Int
    let excluded: (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>)?
    let topScores: UnsafeMutablePointer<Float>
    let topRows: UnsafeMutablePointer<Int32>
    let t: Int, d: Int, k: Int
    let bf16: Bool

    /// Scores queries `range` against every tile row; `parallel` splits the work inside a block
    /// (a single thread when the caller already split the queries). `itemsPerCall`: sgemm takes a
    /// block in slices of this many items (shared among the threads); nil: one call per block.
    func run(queries range: Range<Int>, parallel: Parallel, itemsPerCall: Int?) {
        let q = range.count
        guard q > 0 else { return }
        let itemBlock = min(t, CPUBackend.itemsPerBlock)
        let queryBlock = max(1, min(q, CPUBackend.scoreBlockFloats / CPUBackend.itemsPerBlock))
        let block = UnsafeMutablePointer<Float>.allocate(capacity: queryBlock * itemBlock)
        defer { block.deallocate() }
        let widened = tile.dtype == .f32 || bf16 ? nil : UnsafeMutablePointer<Float>.allocate(capacity: itemBlock * d)
        defer { widened?.deallocate() }
        let packed = bf16 ? BF16Panels(queries: queries + range.lowerBound * d, q: q, d: d, itemBlock: itemBlock,
                                       threads: parallel.threads) : nil

        for i0 in stride(from: 0, to: t, by: itemBlock) {
            let n = min(itemBlock, t - i0)
            var items = UnsafePointer(tile.floats + i0 * d)
            if let packed {
                packed.packItems(tile, rows: i0..<(i0 + n), parallel: parallel)
            } else if let widened {
                widen(rows: i0..<(i0 + n), into: widened, parallel: parallel)
                items = UnsafePointer(widened)
            }
            for q0 in stride(from: 0, to: q, by: queryBlock) {
                let m = min(queryBlock, q - q0)
                if let packed {
                    packed.scores(queries: q0..<(q0 + m), items: n, into: block, parallel: parallel)
                } else if d == 0 {
                    block.update(repeating: 0, count: m * n)
                } else {
                    scores(queries: queries + (range.lowerBound + q0) * d, m, items: items, n, into: block,
                           itemsPerCall: itemsPerCall ?? n, parallel: parallel)
                }
                parallel.forEach(m, costPerItem: n) { rows in
                    for r in rows {
                        let query = range.lowerBound + q0 + r
                        let heap = TopKHeap(scores: topScores + query * k, rows: topRows + query * k, k: k)
                        let skip = excluded.map { ex in ExcludedRows(offsets: ex.0, rows: ex.1, query: query) }
                        CPUBackend.scan(block + r * n, count: n, firstRow: firstRow + i0, scale: scale.map { $0 + i0 },
                                        bias: bias.map { $0 + i0 }, excluded: skip, into: heap)
                    }
                }
            }
        }
    }

    /// `block[m, n] = queries[m, d] · items[n, d]ᵀ`, as single-threaded sgemm calls over slices of
    /// `itemsPerCall` items, shared among `parallel`'s threads.
    private func scores(queries: UnsafePointer<Float>, _ m: Int, items: UnsafePointer<Float>, _ n: Int,
                        into block: UnsafeMutablePointer<Float>, itemsPerCall: Int, parallel: Parallel) {
        let d = d
        let slices = (n + itemsPerCall - 1) / itemsPerCall
        parallel.forEach(slices, costPerItem: 2 * m * d * itemsPerCall) { range in
            for s in range {
                let j = s * itemsPerCall
                let width = min(itemsPerCall, n - j)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(width), Int32(d), 1,
                            queries, Int32(d), items + j * d, Int32(d), 0, block + j, Int32(n))
            }
        }
    }

    /// Rows `rows` of an f16 or i8 tile as f32 (i8 values as they are; the row scale does the rest),
    /// in C with F16C / AVX2 where the CPU has them.
    private func widen(rows: Range<Int>, into out: UnsafeMutablePointer<Float>, parallel: Parallel) {
        let (base, d, tile) = (rows.lowerBound * d, d, tile)
        parallel.forEach(rows.count, costPerItem: d) { range in
            let (src, dst, count) = (base + range.lowerBound * d, out + range.lowerBound * d, range.count * d)
            switch tile.dtype {
            case .f16:
                UnsafeRawPointer(tile.halves + src).withMemoryRebound(to: UInt16.self, capacity: count) {
                    qsk_widen_f16($0, count, dst)
                }
            case .i8: qsk_widen_i8(tile.int8s + src, count, dst)
            default: dst.update(from: tile.floats + src, count: count)
            }
        }
    }
}
