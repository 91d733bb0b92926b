import COpenCL
import QuiverCore

/// GEMM (gemm.cl) over possibly split operands.
///
/// - a and c are cut into row pieces where both lie inside one buffer (split along their first
///   axis, so along M).
/// - b is split along its first axis. With `transposeB` (b: `[N, K]`) each b chunk is a block of
///   columns of c: it writes `c[:, n0..<n1]` through a column offset and `ldc = N`. Without it
///   (b: `[K, N]`) each chunk is a K block: the first writes c (beta 0), later ones accumulate
///   (beta 1), and only the last applies bias + activation, after the sum is complete.
extension OpenCLBackend {
    public func gemm(_ a: DeviceTensor, _ b: DeviceTensor, transposeB: Bool, bias: DeviceTensor?,
                     activation: Activation, into c: DeviceTensor) throws {
        let sizes = try OpChecks.gemm(a, b, transposeB: transposeB, bias: bias, c: c)
        let (ta, tb, tc) = (try cl(a, "gemm"), try cl(b, "gemm"), try cl(c, "gemm"))
        guard tc !== ta, tc !== tb else {
            throw QuiverError.invalidArgument("gemm: the output c must be a different tensor from a and b")
        }
        let (m, n, k) = (sizes.m, sizes.n, sizes.k)
        guard m > 0, n > 0 else { return }
        let biasMem = try bias.map { try cl($0, "gemm").wholeBuffer(op: "gemm", operand: "bias") } ?? context.dummy
        let hasBias = bias != nil

        let (fullKernel, fullConfig) = try gemmKernel(transposeB: transposeB, activation: activation, bias: hasBias)
        let bBlocks = try Segmenter.pieces(op: "gemm", units: tb.shape[0],
                                           operands: [SplitOperand(tensor: tb, name: "b", unitElements: tb.shape[1])])
        let partial = bBlocks.count > 1 && !transposeB
            ? try gemmKernel(transposeB: false, activation: .identity, bias: false) : nil
        // At most 65535 work-groups along M per launch (NVIDIA's limit for grid dimension 1).
        let rowPieces = try Segmenter.pieces(
            op: "gemm", units: m,
            operands: [SplitOperand(tensor: ta, name: "a", unitElements: k), SplitOperand(tensor: tc, name: "c", unitElements: n)],
            maxUnitsPerPiece: 65_535 * min(fullConfig.tileM, partial?.1.tileM ?? fullConfig.tileM))

        // K == 0: nothing to sum; c = act(bias or 0), one launch per row piece.
        guard k > 0 else {
            for rp in rowPieces {
                try launchGEMM(fullKernel, fullConfig, m: rp.count, n: n, k: 0, a: rp.buffers[0], lda: 0,
                               b: (context.dummy, 0), ldb: 0, c: rp.buffers[1], ldc: n, bias: (biasMem, 0), beta: false)
            }
            return
        }

        for rp in rowPieces {
            let (aBuf, cBuf) = (rp.buffers[0], rp.buffers[1])
            for (j, blk) in bBlocks.enumerated() {
                let bBuf = blk.buffers[0]
                if transposeB {
                    // Rows [start, start+count) of b are columns of c.
                    try launchGEMM(fullKernel, fullConfig, m: rp.count, n: blk.count, k: k, a: aBuf, lda: k,
                                   b: bBuf, ldb: k, c: (cBuf.mem, cBuf.offset + blk.start), ldc: n,
                                   bias: (biasMem, blk.start), beta: false)
                } else {
                    // Rows [start, start+count) of b are a K block: columns of a, accumulated into c.
                    let last = j == bBlocks.count - 1
                    let (kern, cfg) = last ? (fullKernel, fullConfig) : (partial ?? (fullKernel, fullConfig))
                    try launchGEMM(kern, cfg, m: rp.count, n: n, k: blk.count, a: (aBuf.mem, aBuf.offset + blk.start), lda: k,
                                   b: bBuf, ldb: n, c: cBuf, ldc: n, bias: (biasMem, 0), beta: j > 0)
                }
            }
        }
    }

    /// The GEMM kernel for this variant and the tile configuration it was built with. A default
    /// configuration is shrunk when the compiled kernel allows fewer work-items per group
    /// (`CL_KERNEL_WORK_GROUP_SIZE`) than it needs; a caller-given one is used as is.
    func gemmKernel(transposeB: Bool, activation: Activation, bias: Bool) throws -> (CLKernel, KernelConfig.GEMM) {
        let flags = " -D TRANS_B=\(transposeB ? 1 : 0) -D ACT=\(activation.kernelCode) -D HAS_BIAS=\(bias ? 1 : 0)"
        var candidates = [kernelConfig.gemm]
        if !customConfig {
            candidates += [KernelConfig.GEMM(tileM: 32, tileN: 32, tileK: 16, workPerThreadM: 4, workPerThreadN: 4),
                           KernelConfig.GEMM(tileM: 16, tileN: 16, tileK: 8, workPerThreadM: 2, workPerThreadN: 2),
                           KernelConfig.GEMM(tileM: 8, tileN: 8, tileK: 8, workPerThreadM: 2, workPerThreadN: 2)]
                .filter { $0.workGroupSize < kernelConfig.gemm.workGroupSize }
        }
        let localLimit = Int(min(openCLDevice.localMemoryBytes, UInt64(Int.max)))
        if customConfig, kernelConfig.gemm.localMemoryBytes > localLimit {
            throw QuiverError.invalidArgument(
                "gemm: KernelConfig.GEMM needs \(kernelConfig.gemm.localMemoryBytes) bytes of local memory; the device has \(localLimit)")
        }
        var last = 0
        for config in candidates where config.localMemoryBytes <= localLimit {
            let k = try kernel(.gemm, config.defines + flags, "gemm")
            if k.workGroupSize >= config.workGroupSize { return (k, config) }
            last = k.workGroupSize
        }
        throw QuiverError.invalidArgument(
            "gemm: the device runs the GEMM kernel with at most \(last) work-items per group, fewer than the "
                + "\(candidates.last?.workGroupSize ?? 0) its tile configuration needs; pass a smaller KernelConfig.GEMM")
    }

    private func launchGEMM(_ kernel: CLKernel, _ config: KernelConfig.GEMM, m: Int, n: Int, k: Int,
                            a: (mem: cl_mem, offset: Int), lda: Int, b: (mem: cl_mem, offset: Int), ldb: Int,
                            c: (mem: cl_mem, offset: Int), ldc: Int, bias: (cl_mem, Int), beta: Bool) throws {
        let local = config.localSize
        let global = [(n + config.tileN - 1) / config.tileN * local[0], (m + config.tileM - 1) / config.tileM * local[1]]
        try KernelLauncher.launch(kernel, on: context, args: [
            .int(m), .int(n), .int(k),
            .mem(a.mem), .ulong(a.offset), .int(lda),
            .mem(b.mem), .ulong(b.offset), .int(ldb),
            .mem(c.mem), .ulong(c.offset), .int(ldc),
            .mem(bias.0), .ulong(bias.1),
            .int(beta ? 1 : 0),
        ], global: global, local: local)
    }
}
