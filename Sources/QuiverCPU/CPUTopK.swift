import CBLAS
import CScoreKernels
import Dispatch
import QuiverCore

extension CPUBackend {
    /// Catalog rows scored per sgemm block: a `[Q, itemsPerBlock]` f32 score block (at most
    /// `scoreBlockFloats` of it) is written by sgemm and scanned once while still warm in cache.
    static let itemsPerBlock = 1024
    static let scoreBlockFloats = 4 << 20

    /// Blocked sgemm, then per query a scan of the score block against the heap threshold held in
    /// a register (FAISS's `exhaustive_L2sqr_blas` / `ResultHandler` scheme). f16 and i8 tiles are
    /// widened to f32 one block at a time (`TopKWork`). Above `queriesPerPiece` queries each thread
    /// takes a slice of the queries through the whole tile; with fewer, the threads share each
    /// block's sgemm (fixed item slices) and then its scans. See `ComputeBackend.similarityTopK`.
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

        let bf16 = approximate && q >= Self.bf16MinimumQueries && d > 0
        let work = TopKWork(queries: tq.floats, tile: tt, scale: scale, bias: bias, firstRow: firstRow, excluded: excluded,
                            topScores: topScores, topRows: topRows, t: t, d: d, k: k, bf16: bf16)

        forEachQuery(q, k, topScores, topRows) { $0.open() }
        defer { forEachQuery(q, k, topScores, topRows) { $0.close() } }

        // Every sgemm runs single-threaded, on pieces cut the same way whatever other ops do to
        // OpenBLAS's process-wide thread count meanwhile: OpenBLAS's sums depend on a call's shape and
        // on its own thread count (measured: 1 vs 2 threads, or one [1000, 1024] call vs two
        // [500, 1024] calls, change the last bits of about half the scores), and the scores decide
        // the order of near-ties. So a call's scores are the same bits on every run with the same
        // `threads`, and with up to `queriesPerPiece` queries for any `threads`.
        BLASThreads.shared.singleThreaded(restoring: threads) {
            if q > Self.queriesPerPiece {
                // Each thread takes a slice of the queries through the whole tile, one sgemm per
                // block (no hand-offs between threads per block).
                let parts = threads
                DispatchQueue.concurrentPerform(iterations: parts) { p in
                    work.run(queries: (q * p / parts)..<(q * (p + 1) / parts), parallel: Parallel(threads: 1), itemsPerCall: nil)
                }
            } else {
                // Few queries: the threads share each block's sgemm (fixed item slices), then its scans.
                work.run(queries: 0..<q, parallel: parallel, itemsPerCall: Self.itemsPerCall)
            }
        }
    }

    /// Up to this many queries the threads share each block; above, they split the queries.
    static let queriesPerPiece = 256
    /// Item rows per sgemm call when the threads share a block: fixed, so the calls' shapes (and so
    /// the scores' bits) do not depend on how many threads share it.
    static let itemsPerCall = 256

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
