import COpenCL
import QuiverCore

/// Row-wise ops (rowwise.cl): one work-group per row with a local-memory reduction. Split tensors
/// are processed in pieces of whole rows (softmax and pool: whole batch entries, so the mask rows
/// line up).
extension OpenCLBackend {
    public func layerNorm(_ x: DeviceTensor, residual: DeviceTensor?, gamma: DeviceTensor, beta: DeviceTensor,
                          epsilon: Float, into out: DeviceTensor) throws {
        let op = "layerNorm"
        try OpChecks.layerNorm(x, residual: residual, gamma: gamma, beta: beta, epsilon: epsilon, out: out)
        let (tx, to) = (try cl(x, op), try cl(out, op))
        let tr = try residual.map { try cl($0, op) }
        let g = try cl(gamma, op).wholeBuffer(op: op, operand: "gamma")
        let bt = try cl(beta, op).wholeBuffer(op: op, operand: "beta")
        let h = tx.shape.last
        var operands = [SplitOperand(tensor: tx, name: "x", unitElements: h), SplitOperand(tensor: to, name: "out", unitElements: h)]
        if let tr { operands.append(SplitOperand(tensor: tr, name: "residual", unitElements: h)) }
        let (k, wg) = try rowwiseKernel("layer_norm")
        for p in try Segmenter.pieces(op: op, units: tx.shape.rows, operands: operands) {
            let (xb, ob) = (p.buffers[0], p.buffers[1])
            let rb = tr == nil ? (mem: context.dummy, offset: 0) : p.buffers[2]
            try launchRows(k, wg: wg, rows: p.count, args: [
                .mem(xb.mem), .ulong(xb.offset), .mem(rb.mem), .ulong(rb.offset), .int(tr == nil ? 0 : 1),
                .mem(g), .mem(bt), .mem(ob.mem), .ulong(ob.offset), .int(p.count), .int(h), .float(epsilon),
            ])
        }
    }

    public func softmax(_ x: DeviceTensor, mask: DeviceTensor?, into out: DeviceTensor) throws {
        let op = "softmax"
        let (b, r, n) = try OpChecks.softmax(x, mask: mask, out: out)
        let (tx, to) = (try cl(x, op), try cl(out, op))
        let tm = try mask.map { try cl($0, op) }
        guard b > 0, r > 0, n > 0 else { return }
        var operands = [SplitOperand(tensor: tx, name: "x", unitElements: r * n), SplitOperand(tensor: to, name: "out", unitElements: r * n)]
        if let tm { operands.append(SplitOperand(tensor: tm, name: "mask", unitElements: n)) }
        let (k, wg) = try rowwiseKernel("softmax")
        // Pieces are whole batch entries, so launch row i uses mask row i / r of the piece.
        for p in try Segmenter.pieces(op: op, units: b, operands: operands) {
            let (xb, ob) = (p.buffers[0], p.buffers[1])
            let mb = tm == nil ? (mem: context.dummy, offset: 0) : p.buffers[2]
            try launchRows(k, wg: wg, rows: p.count * r, args: [
                .mem(xb.mem), .ulong(xb.offset), .mem(mb.mem), .ulong(mb.offset), .int(tm == nil ? 0 : 1),
                .mem(ob.mem), .ulong(ob.offset), .int(p.count * r), .int(n), .int(r),
            ])
        }
    }

    public func l2Normalize(_ x: DeviceTensor, into out: DeviceTensor) throws {
        let op = "l2Normalize"
        try OpChecks.elementwise(op, inputs: [("x", x)], out: out)
        try OpChecks.notEmpty(op, "x", x)
        let (tx, to) = (try cl(x, op), try cl(out, op))
        let h = tx.shape.last
        let operands = [SplitOperand(tensor: tx, name: "x", unitElements: h), SplitOperand(tensor: to, name: "out", unitElements: h)]
        let (k, wg) = try rowwiseKernel("l2_normalize")
        for p in try Segmenter.pieces(op: op, units: tx.shape.rows, operands: operands) {
            let (xb, ob) = (p.buffers[0], p.buffers[1])
            try launchRows(k, wg: wg, rows: p.count, args: [
                .mem(xb.mem), .ulong(xb.offset), .mem(ob.mem), .ulong(ob.offset), .int(p.count), .int(h),
            ])
        }
    }

    public func pool(_ x: DeviceTensor, mask: DeviceTensor, mode: PoolingMode, into out: DeviceTensor) throws {
        let op = "pool"
        let (b, s, h) = try OpChecks.pool(x, mask: mask, out: out)
        let (tx, tm, to) = (try cl(x, op), try cl(mask, op), try cl(out, op))
        guard tx !== to else { throw QuiverError.invalidArgument("pool: out must be a different tensor from x") }
        guard b > 0, h > 0 else { return }
        let operands = [SplitOperand(tensor: tx, name: "x", unitElements: s * h),
                        SplitOperand(tensor: tm, name: "mask", unitElements: s),
                        SplitOperand(tensor: to, name: "out", unitElements: h)]
        let pieces = try Segmenter.pieces(op: op, units: b, operands: operands)
        if mode == .cls {
            let k = try kernel(.rowwise, KernelConfig.Rowwise(workGroupSize: kernelConfig.rowwise.workGroupSize).defines, "pool_cls")
            for p in pieces {
                let (xb, ob) = (p.buffers[0], p.buffers[2])
                try launchGridStride(k, args: [.mem(xb.mem), .ulong(xb.offset), .mem(ob.mem), .ulong(ob.offset),
                                               .int(p.count), .int(s), .int(h)],
                                     count: p.count * h, groupSize: kernelConfig.elementwise.workGroupSize)
            }
            return
        }
        let (k, wg) = try rowwiseKernel("pool_mean")
        for p in pieces {
            let (xb, mb, ob) = (p.buffers[0], p.buffers[1], p.buffers[2])
            try launchRows(k, wg: wg, rows: p.count, args: [
                .mem(xb.mem), .ulong(xb.offset), .mem(mb.mem), .ulong(mb.offset), .mem(ob.mem), .ulong(ob.offset),
                .int(p.count), .int(s), .int(h),
            ])
        }
    }

    /// The rowwise kernel `name` and its work-group size: the configured one, halved (default
    /// configurations only) until the compiled kernel accepts it.
    func rowwiseKernel(_ name: String) throws -> (CLKernel, Int) {
        var wg = kernelConfig.rowwise.workGroupSize
        guard wg >= 1, wg & (wg - 1) == 0 else {
            throw QuiverError.invalidArgument("KernelConfig.Rowwise: workGroupSize \(wg) must be a power of two")
        }
        while true {
            let k = try kernel(.rowwise, KernelConfig.Rowwise(workGroupSize: wg).defines, name)
            if k.workGroupSize >= wg { return (k, wg) }
            guard !customConfig, wg > 1 else {
                throw QuiverError.invalidArgument(
                    "rowwise kernel \(name): the device allows \(k.workGroupSize) work-items per group, fewer than the configured \(wg)")
            }
            wg /= 2
        }
    }

    /// One work-group per row, with at most 64 groups per compute unit (groups then stride over rows).
    private func launchRows(_ k: CLKernel, wg: Int, rows: Int, args: [KernelArg]) throws {
        let groups = min(rows, max(openCLDevice.computeUnits, 1) * 64)
        try KernelLauncher.launch(k, on: context, args: args, global: [groups * wg], local: [wg])
    }
}
