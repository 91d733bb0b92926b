import CBLAS
import CScoreKernels
import QuiverCore

extension CPUBackend {
    /// Catalog rows scored per sgemm block: a `[Q, itemsPerBlock]` f32 score block (at most
    /// `scoreBlockFloats` of it) is written by sgemm and scanned once while still warm in cache.
    static let itemsPerBlock = 1024
    static let scoreBlockFloats = 4 << 20

    /// Blocked sgemm, then per query a scan of the score block against the heap threshold held in
    /// a register (FAISS's `exhaustive_L2sqr_blas` / `ResultHandler` scheme). f16 and i8 tiles are
    /// widened to f32 one block at a time. Queries are split over the threads for the scan;
    /// OpenBLAS uses them all for the product. See `ComputeBackend.similarityTopK`.
    public func similarityTopK(queries: DeviceTensor, tile: DeviceTensor, rowScale: DeviceTensor?, rowBias: DeviceTensor?,
                               firstRow: Int, exclusions: RowExclusions?, top: TopKLists) throws {
        try topK(queries, tile, rowScale, rowBias, firstRow, exclusions, top, approximate: false)
    }

    /// Queries per call from which the bf16 path pays for packing each catalog block (measured
    /// in Benchmarks/ScoreKernelBench: 1.3× sgemm at 64 queries, 1.9× at 1024).
    static let bf16MinimumQueries = 64

    /// With AVX512_BF16 and at least `bf16MinimumQueries` queries, scores come from the bf16 kernel
    /// (CScoreKernels: queries and items rounded to bf16, f32 sums, ~1.9× sgemm's throughput);
    /// otherwise this is `similarityTopK`.
    public func approximateSimilarityTopK(queries: DeviceTensor, tile: DeviceTensor, rowScale: DeviceTensor?, rowBias: DeviceTensor?,
                                          firstRow: Int, exclusions: RowExclusions?, top: TopKLists) throws {
        try topK(queries, tile, rowScale, rowBias, firstRow, exclusions, top, approximate: qsk_bf16_supported() != 0)
    }

    /// bf16 rounding of both operands (≤ 2⁻⁹ relative each, so ≤ 2⁻⁸ with margin for the product
    /// of the two) plus f32 accumulation over `dimension` terms.
    public func approximateScoreError(dimension: Int) -> Float {
        (qsk_bf16_supported() != 0 ? 0x1p-8 * 1.01 : 0) + Float(dimension) * 0x1p-24
    }

    private func topK(_ queries: DeviceTensor, _ tile: DeviceTensor, _ rowScale: DeviceTensor?, _ rowBias: DeviceTensor?,
                      _ firstRow: Int, _ exclusions: RowExclusions?, _ top: TopKLists, approximate: Bool) throws {
        let op = "similarityTopK"
        let size = try OpChecks.similarityTopK(queries: queries, tile: tile, rowScale: rowScale, rowBias: rowBias,
                                               firstRow: firstRow, exclusions: exclusions, top: top)
        let (tq, tt) = (try cpu(queries, op), try cpu(tile, op))
        let (scale, bias) = (try rowScale.map { try cpu($0, op).floats }, try rowBias.map { try cpu($0, op).floats })
        let (topScores, topRows) = (try cpu(top.scores, op).floats, try cpu(top.rows, op).int32s)
        let excluded = try exclusions.map { (try cpu($0.offsets, op).int32s, try cpu($0.rows, op).int32s) }
        let (q, t, d, k) = (size.q, size.t, size.d, size.k)
        guard q > 0, t > 0 else { return }

        let queryBlock = max(1, min(q, Self.scoreBlockFloats / Self.itemsPerBlock))
        let itemBlock = min(t, Self.itemsPerBlock)
        let block = UnsafeMutablePointer<Float>.allocate(capacity: queryBlock * itemBlock)
        defer { block.deallocate() }
        let bf16 = approximate && q >= Self.bf16MinimumQueries && d > 0
        let widened = tt.dtype == .f32 || bf16 ? nil : UnsafeMutablePointer<Float>.allocate(capacity: itemBlock * d)
        defer { widened?.deallocate() }
        let packed = bf16 ? BF16Panels(queries: tq.floats, q: q, d: d, itemBlock: itemBlock, threads: threads) : nil

        forEachQuery(q, k, topScores, topRows) { $0.open() }
        defer { forEachQuery(q, k, topScores, topRows) { $0.close() } }

        BLASThreads.shared.prepareForGemm(threads: threads)
        for i0 in stride(from: 0, to: t, by: itemBlock) {
            let n = min(itemBlock, t - i0)
            var items = UnsafePointer(tt.floats + i0 * d)
            if let packed {
                packed.packItems(tt, rows: i0..<(i0 + n), parallel: parallel)
            } else if let widened {
                widen(tt, rows: i0..<(i0 + n), columns: d, into: widened)
                items = UnsafePointer(widened)
            }
            for q0 in stride(from: 0, to: q, by: queryBlock) {
                let m = min(queryBlock, q - q0)
                if let packed {
                    packed.scores(queries: q0..<(q0 + m), items: n, into: block, parallel: parallel)
                } else if d == 0 {
                    block.update(repeating: 0, count: m * n)
                } else {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(d), 1,
                                tq.floats + q0 * d, Int32(d), items, Int32(d), 0, block, Int32(n))
                }
                parallel.forEach(m, costPerItem: n) { range in
                    for r in range {
                        let heap = TopKHeap(scores: topScores + (q0 + r) * k, rows: topRows + (q0 + r) * k, k: k)
                        let skip = excluded.map { ex in ExcludedRows(offsets: ex.0, rows: ex.1, query: q0 + r) }
                        Self.scan(block + r * n, count: n, firstRow: firstRow + i0, scale: scale.map { $0 + i0 },
                                  bias: bias.map { $0 + i0 }, excluded: skip, into: heap)
                    }
                }
            }
        }
    }

    /// Offers `raw[0..<count]` (rows `firstRow...`, after scale and bias) to `heap`: a C filter
    /// (`qsk_filter_ge`, one AVX-512 compare per 16 scores) keeps the scores that reach the heap's
    /// threshold, in chunks of 256 so the threshold tightens as the heap fills.
    static func scan(_ raw: UnsafePointer<Float>, count: Int, firstRow: Int, scale: UnsafePointer<Float>?,
                     bias: UnsafePointer<Float>?, excluded: ExcludedRows?, into heap: TopKHeap) {
        let chunk = 256
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: chunk) { index in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: chunk) { value in
                var j = 0
                while j < count {
                    let n = min(chunk, count - j)
                    let kept = Int(qsk_filter_ge(raw + j, scale.map { $0 + j }, bias.map { $0 + j }, Int32(n), heap.threshold,
                                                 index.baseAddress!, value.baseAddress!))
                    for c in 0..<kept {
                        let row = Int32(firstRow + j) + index[c]
                        if let excluded, excluded.contains(row) { continue }
                        heap.offer(value[c], row)
                    }
                    j += n
                }
            }
        }
    }

    private func forEachQuery(_ q: Int, _ k: Int, _ scores: UnsafeMutablePointer<Float>, _ rows: UnsafeMutablePointer<Int32>,
                              _ body: (TopKHeap) -> Void) {
        parallel.forEach(q, costPerItem: 8 * k) { range in
            for r in range { body(TopKHeap(scores: scores + r * k, rows: rows + r * k, k: k)) }
        }
    }

    /// Rows `rows` of an f16 or i8 tile as f32 (i8 values as they are; the row scale does the rest).
    private func widen(_ tile: CPUTensor, rows: Range<Int>, columns d: Int, into out: UnsafeMutablePointer<Float>) {
        let base = rows.lowerBound * d
        parallel.forEach(rows.count, costPerItem: d) { range in
            for r in range {
                let (src, dst) = (base + r * d, out + r * d)
                switch tile.dtype {
                case .f16: for c in 0..<d { dst[c] = Float(tile.halves[src + c]) }
                case .i8: for c in 0..<d { dst[c] = Float(tile.int8s[src + c]) }
                default: for c in 0..<d { dst[c] = tile.floats[src + c] }
                }
            }
        }
    }
}

/// One query's excluded rows (ascending), looked up by binary search only for candidates that
/// beat the threshold.
struct ExcludedRows {
    let rows: UnsafeBufferPointer<Int32>

    init(offsets: UnsafePointer<Int32>, rows: UnsafePointer<Int32>, query: Int) {
        let (lo, hi) = (Int(offsets[query]), Int(offsets[query + 1]))
        self.rows = UnsafeBufferPointer(start: rows + lo, count: max(hi - lo, 0))
    }

    func contains(_ row: Int32) -> Bool {
        var (lo, hi) = (0, rows.count)
        while lo < hi {
            let mid = (lo + hi) / 2
            if rows[mid] < row { lo = mid + 1 } else { hi = mid }
        }
        return lo < rows.count && rows[lo] == row
    }
}
