import CScoreKernels
import QuiverCore

/// Packed bf16 operands for `CScoreKernels`' score kernel: all queries of a call, packed once, and
/// one catalog block at a time, packed by the threads into disjoint 16-row panels and then
/// scored against the queries while still in cache.
final class BF16Panels {
    let d: Int
    private let queries: UnsafeMutableRawPointer
    private let items: UnsafeMutableRawPointer
    private let threads: Int

    /// Packs `q` queries `[q, d]`; room for `itemBlock` catalog rows.
    init(queries source: UnsafePointer<Float>, q: Int, d: Int, itemBlock: Int, threads: Int) {
        self.d = d
        self.threads = max(1, threads)
        queries = .allocate(byteCount: max(qsk_queries_packed_bytes(Int32(q), Int32(d)), 1), alignment: 64)
        items = .allocate(byteCount: max(qsk_items_packed_bytes(Int32(itemBlock), Int32(d)), 1), alignment: 64)
        _ = qsk_pack_queries(source, Int32(q), Int32(d), Int32(d), queries)
    }

    deinit {
        queries.deallocate()
        items.deallocate()
    }

    /// Row ranges of a block of `n` rows for the threads, each starting on a 16-row panel.
    private func chunks(_ n: Int) -> [Range<Int>] {
        let panels = (n + 15) / 16
        let parts = min(threads, panels)
        return (0..<parts).map { p in
            let lo = panels * p / parts * 16, hi = min(n, panels * (p + 1) / parts * 16)
            return lo..<hi
        }
    }

    private func panelOffset(_ row: Int) -> Int { row / 16 * ((d + 1) / 2) * 64 }

    /// Packs catalog rows `rows` of `tile` (f32, f16 or i8) as the current block.
    func packItems(_ tile: CPUTensor, rows: Range<Int>, parallel: Parallel) {
        let parts = chunks(rows.count)
        let (d, items) = (d, items)
        parallel.forEach(parts.count, costPerItem: Parallel.minWorkPerTask) { range in
            for p in range {
                let r = parts[p], first = rows.lowerBound + r.lowerBound
                let out = items + panelOffset(r.lowerBound)
                let (n, dd) = (Int32(r.count), Int32(d))
                switch tile.dtype {
                case .f16: _ = qsk_pack_items_f16(UnsafeRawPointer(tile.halves + first * d).assumingMemoryBound(to: UInt16.self), n, dd, dd, out)
                case .i8: _ = qsk_pack_items_i8(tile.int8s + first * d, n, dd, dd, out)
                default: _ = qsk_pack_items_f32(tile.floats + first * d, n, dd, dd, out)
                }
            }
        }
    }

    /// `out[r, j] = queries[queries.lowerBound + r] · block[j]` for the `n` rows of the packed block,
    /// `out` row-major with `n` columns.
    func scores(queries range: Range<Int>, items n: Int, into out: UnsafeMutablePointer<Float>, parallel: Parallel) {
        let parts = chunks(n)
        let qOffset = range.lowerBound * ((d + 1) / 2) * 4
        let (d, queries, items) = (d, queries, items)
        parallel.forEach(parts.count, costPerItem: Parallel.minWorkPerTask) { r in
            for p in r {
                let rows = parts[p]
                _ = qsk_bf16_scores(queries + qOffset, Int32(range.count), items + panelOffset(rows.lowerBound), Int32(rows.count),
                                    Int32(d), out + rows.lowerBound, Int32(n))
            }
        }
    }
}
