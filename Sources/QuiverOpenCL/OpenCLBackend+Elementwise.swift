import COpenCL
import QuiverCore

/// Elementwise ops (elementwise.cl): one unit = one element, so tensors split differently
/// (e.g. f32 vs f16 chunks) still line up piece by piece.
extension OpenCLBackend {
    public func add(_ a: DeviceTensor, _ b: DeviceTensor, into out: DeviceTensor) throws {
        try OpChecks.elementwise("add", inputs: [("a", a), ("b", b)], out: out)
        let (ta, tb, to) = (try cl(a, "add"), try cl(b, "add"), try cl(out, "add"))
        let k = try kernel(.elementwise, "", "add_f32")
        let operands = [SplitOperand(tensor: ta, name: "a", unitElements: 1),
                        SplitOperand(tensor: tb, name: "b", unitElements: 1),
                        SplitOperand(tensor: to, name: "out", unitElements: 1)]
        for p in try Segmenter.pieces(op: "add", units: to.shape.count, operands: operands) {
            let (x, y, z) = (p.buffers[0], p.buffers[1], p.buffers[2])
            try launchGridStride(k, args: [.mem(x.mem), .ulong(x.offset), .mem(y.mem), .ulong(y.offset),
                                           .mem(z.mem), .ulong(z.offset), .int(p.count)],
                                 count: p.count, groupSize: kernelConfig.elementwise.workGroupSize)
        }
    }

    public func activate(_ x: DeviceTensor, _ activation: Activation, into out: DeviceTensor) throws {
        try OpChecks.elementwise("activate", inputs: [("x", x)], out: out)
        let (tx, to) = (try cl(x, "activate"), try cl(out, "activate"))
        if activation == .identity && tx === to { return }
        let k = try kernel(.elementwise, "", "activate_f32")
        let operands = [SplitOperand(tensor: tx, name: "x", unitElements: 1),
                        SplitOperand(tensor: to, name: "out", unitElements: 1)]
        for p in try Segmenter.pieces(op: "activate", units: to.shape.count, operands: operands) {
            let (i, o) = (p.buffers[0], p.buffers[1])
            try launchGridStride(k, args: [.mem(i.mem), .ulong(i.offset), .mem(o.mem), .ulong(o.offset),
                                           .int(p.count), .int(activation.kernelCode)],
                                 count: p.count, groupSize: kernelConfig.elementwise.workGroupSize)
        }
    }

    /// f32 → f16 rounds to nearest even (`vstore_half_rte`); f16 → f32 is exact; equal dtypes copy
    /// with `clEnqueueCopyBuffer` (any dtype).
    public func convert(_ x: DeviceTensor, into out: DeviceTensor) throws {
        try OpChecks.convert(x, out: out)
        let (tx, to) = (try cl(x, "convert"), try cl(out, "convert"))
        let operands = [SplitOperand(tensor: tx, name: "x", unitElements: 1),
                        SplitOperand(tensor: to, name: "out", unitElements: 1)]
        let pieces = try Segmenter.pieces(op: "convert", units: to.shape.count, operands: operands)
        if tx.dtype == to.dtype {
            if tx === to { return }
            let size = tx.dtype.size
            for p in pieces {
                let st = qclEnqueueCopyBuffer(context.queue, p.buffers[0].mem, p.buffers[1].mem, p.buffers[0].offset * size,
                                              p.buffers[1].offset * size, p.count * size, 0, nil, nil)
                try CL.check(st, "clEnqueueCopyBuffer", "convert \(tx.shape) \(tx.dtype)")
            }
            return
        }
        let k = try kernel(.elementwise, "", tx.dtype == .f32 ? "f32_to_f16" : "f16_to_f32")
        for p in pieces {
            let (i, o) = (p.buffers[0], p.buffers[1])
            try launchGridStride(k, args: [.mem(i.mem), .ulong(i.offset), .mem(o.mem), .ulong(o.offset), .int(p.count)],
                                 count: p.count, groupSize: kernelConfig.elementwise.workGroupSize)
        }
    }
}
