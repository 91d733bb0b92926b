import COpenCL
import QuiverCore

/// Fused similarity + exact top-k (topk.cl): per block of queries and chunk of catalog rows,
/// `score_filter` scores the block GEMM-style and keeps, in per-query candidate slots, only the
/// scores that beat the query's current k-th entry; `topk_merge` then merges those candidates into
/// each list in local memory. The Q×T score matrix is never stored: after the first chunks have
/// filled the lists, almost every score is rejected in registers.
///
/// Splits: queries and the top lists are cut into query pieces, the tile (with rowScale/rowBias)
/// into row pieces of at most `KernelConfig.TopK.chunkRows` rows that lie inside one buffer of
/// each operand. The exclusion lists must each be one buffer. Launches are only enqueued; the
/// in-order queue orders each merge after its filter and each filter after the previous merge
/// (whose lists give the thresholds).
extension OpenCLBackend {
    /// Entries of the merge's local sort (`SORT_N` in topk.cl, 8 bytes each): the list and one
    /// round of candidates, so k + mergeGroupSize ≤ 2048 (k ≤ `TopKLists.maxK` = 1024).
    static let topKSortCapacity = 2048

    public func similarityTopK(queries: DeviceTensor, tile: DeviceTensor, rowScale: DeviceTensor?, rowBias: DeviceTensor?,
                               firstRow: Int, exclusions: RowExclusions?, top: TopKLists) throws {
        let op = "similarityTopK"
        let size = try OpChecks.similarityTopK(queries: queries, tile: tile, rowScale: rowScale, rowBias: rowBias,
                                               firstRow: firstRow, exclusions: exclusions, top: top)
        let (tq, tt, ts, tr) = (try cl(queries, op), try cl(tile, op), try cl(top.scores, op), try cl(top.rows, op))
        let (scale, bias) = (try rowScale.map { try cl($0, op) }, try rowBias.map { try cl($0, op) })
        let excluded = try exclusions.map {
            (offsets: try cl($0.offsets, op).wholeBuffer(op: op, operand: "exclusions.offsets"),
             rows: try cl($0.rows, op).wholeBuffer(op: op, operand: "exclusions.rows"))
        }
        let (q, t, d, k) = (size.q, size.t, size.d, size.k)
        guard q > 0, t > 0 else { return }

        let kernels = try topKKernels(tileType: tt.dtype)
        let config = kernels.config
        guard k + config.mergeGroupSize <= Self.topKSortCapacity else {
            throw QuiverError.invalidArgument(
                "\(op): k = \(k) needs a merge group of at most \(Self.topKSortCapacity - k) work-items; "
                    + "KernelConfig.TopK.mergeGroupSize is \(config.mergeGroupSize)")
        }
        // Candidate slots: per query one per chunk row, so a launch can never overflow them.
        let slotLimit = max(Int(min(openCLDevice.maxAllocationBytes, UInt64(Int.max))) / 4, 1)
        let chunk = min(config.chunkRows, t, slotLimit)
        let queryBlock = max(1, min(q, config.candidateBytes / (8 * chunk), slotLimit / chunk,
                                    Segmenter.maxLaunchElements / chunk, 65_535 * config.tileQ))
        let scratch = try TopKScratch(context: context, queries: min(q, queryBlock), slots: chunk)

        var tileOperands = [SplitOperand(tensor: tt, name: "tile", unitElements: d)]
        if let scale { tileOperands.append(SplitOperand(tensor: scale, name: "rowScale", unitElements: 1)) }
        if let bias { tileOperands.append(SplitOperand(tensor: bias, name: "rowBias", unitElements: 1)) }
        let rowPieces = try Segmenter.pieces(op: op, units: t, operands: tileOperands, maxUnitsPerPiece: chunk)
        let queryPieces = try Segmenter.pieces(
            op: op, units: q,
            operands: [SplitOperand(tensor: tq, name: "queries", unitElements: d),
                       SplitOperand(tensor: ts, name: "top.scores", unitElements: k),
                       SplitOperand(tensor: tr, name: "top.rows", unitElements: k)],
            maxUnitsPerPiece: queryBlock)

        let dummy = (mem: context.dummy, offset: 0)
        for qp in queryPieces {
            let (qBuf, sBuf, rBuf) = (qp.buffers[0], qp.buffers[1], qp.buffers[2])
            for rp in rowPieces {
                let tBuf = rp.buffers[0]
                let scBuf = scale == nil ? dummy : rp.buffers[1]
                let biBuf = bias == nil ? dummy : rp.buffers[scale == nil ? 1 : 2]
                let filterLocal = config.localSize
                try KernelLauncher.launch(kernels.filter, on: context, args: [
                    .int(qp.count), .int(rp.count), .int(d), .int(k), .int(chunk),
                    .mem(qBuf.mem), .ulong(qBuf.offset), .mem(tBuf.mem), .ulong(tBuf.offset),
                    .mem(scBuf.mem), .ulong(scBuf.offset), .int(scale == nil ? 0 : 1),
                    .mem(biBuf.mem), .ulong(biBuf.offset), .int(bias == nil ? 0 : 1),
                    .int(firstRow + rp.start),
                    .mem(sBuf.mem), .ulong(sBuf.offset), .mem(rBuf.mem), .ulong(rBuf.offset),
                    .mem(scratch.counts), .mem(scratch.scores), .mem(scratch.rows),
                ], global: [(rp.count + config.tileT - 1) / config.tileT * filterLocal[0],
                            (qp.count + config.tileQ - 1) / config.tileQ * filterLocal[1]],
                   local: filterLocal)
                let groups = min(qp.count, max(openCLDevice.computeUnits, 1) * 64)
                try KernelLauncher.launch(kernels.merge, on: context, args: [
                    .int(qp.count), .int(k), .int(chunk),
                    .mem(sBuf.mem), .ulong(sBuf.offset), .mem(rBuf.mem), .ulong(rBuf.offset),
                    .mem(scratch.counts), .mem(scratch.scores), .mem(scratch.rows),
                    .mem(excluded?.offsets ?? context.dummy), .mem(excluded?.rows ?? context.dummy),
                    .int(excluded == nil ? 0 : 1), .int(qp.start),
                ], global: [groups * config.mergeGroupSize], local: [config.mergeGroupSize])
            }
        }
    }

    /// Device memory is separate from the host: tensors must be uploaded.
    public func view(_ host: Tensor) -> DeviceTensor? { nil }

    /// The filter kernel for `tileType` and the merge kernel, with the configuration they were
    /// built with. A default configuration falls back to smaller tiles / merge groups when the
    /// compiled kernels allow fewer work-items per group than it needs; a caller-given one is used as is.
    func topKKernels(tileType: DType) throws -> (filter: CLKernel, merge: CLKernel, config: KernelConfig.TopK) {
        let preferred = kernelConfig.topK
        try preferred.validate()
        let typeFlag = " -D TILE_TYPE=\(tileType == .f16 ? 1 : tileType == .i8 ? 2 : 0)"
        let localLimit = Int(min(openCLDevice.localMemoryBytes, UInt64(Int.max)))
        var candidates = [preferred]
        if !customConfig {
            candidates += KernelConfig.TopK.fallbacks
                .filter { $0.workGroupSize < preferred.workGroupSize }
                .map { var c = $0; c.chunkRows = preferred.chunkRows; c.candidateBytes = preferred.candidateBytes; return c }
        }
        var filter: (CLKernel, KernelConfig.TopK)?
        for config in candidates where config.localMemoryBytes <= localLimit {
            let k = try kernel(.topk, config.filterDefines + typeFlag, "score_filter")
            if k.workGroupSize >= config.workGroupSize { filter = (k, config); break }
        }
        guard let (filterKernel, filterConfig) = filter else {
            throw QuiverError.invalidArgument(
                "similarityTopK: the device cannot run the score_filter kernel with KernelConfig.TopK \(preferred.tileQ)×"
                    + "\(preferred.tileT)×\(preferred.tileD) (\(preferred.workGroupSize) work-items, \(preferred.localMemoryBytes) "
                    + "bytes of local memory); pass a smaller configuration")
        }
        var config = filterConfig
        config.mergeGroupSize = preferred.mergeGroupSize
        while true {
            let merge = try kernel(.topk, config.mergeDefines + " -D SORT_N=\(Self.topKSortCapacity)", "topk_merge")
            if merge.workGroupSize >= config.mergeGroupSize { return (filterKernel, merge, config) }
            guard !customConfig, config.mergeGroupSize > 1 else {
                throw QuiverError.invalidArgument(
                    "similarityTopK: the device runs topk_merge with at most \(merge.workGroupSize) work-items per group, "
                        + "fewer than KernelConfig.TopK.mergeGroupSize = \(config.mergeGroupSize)")
            }
            config.mergeGroupSize /= 2
        }
    }
}

/// Candidate storage of one `similarityTopK` call: per query of a block, a counter (zeroed here
/// and reset by every merge) and `slots` (score, row) slots. The slots are never read before the
/// filter writes them, so they are not initialized. Released when the call returns; OpenCL keeps
/// the buffers alive until the enqueued kernels that use them finish.
final class TopKScratch {
    let counts: cl_mem
    let scores: cl_mem
    let rows: cl_mem

    init(context: OpenCLContext, queries: Int, slots: Int) throws {
        counts = try context.allocateZeroed(bytes: queries * 4)
        var err: cl_int = 0
        guard let s = qclCreateBuffer(context.context, cl_mem_flags(CL_MEM_READ_WRITE), queries * slots * 4, nil, &err),
              err == CL_SUCCESS else {
            _ = qclReleaseMemObject(counts)
            throw QuiverError.openCL(call: "clCreateBuffer", code: err, detail: "top-k candidate scores, \(queries)×\(slots)")
        }
        guard let r = qclCreateBuffer(context.context, cl_mem_flags(CL_MEM_READ_WRITE), queries * slots * 4, nil, &err),
              err == CL_SUCCESS else {
            _ = qclReleaseMemObject(counts)
            _ = qclReleaseMemObject(s)
            throw QuiverError.openCL(call: "clCreateBuffer", code: err, detail: "top-k candidate rows, \(queries)×\(slots)")
        }
        scores = s
        rows = r
    }

    deinit {
        _ = qclReleaseMemObject(counts)
        _ = qclReleaseMemObject(scores)
        _ = qclReleaseMemObject(rows)
    }
}
