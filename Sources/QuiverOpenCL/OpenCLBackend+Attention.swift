import COpenCL
import QuiverCore

/// Attention (attention.cl): flash-attention style, O(B·S·heads·D) memory. Split tensors are
/// processed in pieces of whole batch entries (query/key/value/out/mask all split along B).
extension OpenCLBackend {
    public func attention(query: DeviceTensor, key: DeviceTensor, value: DeviceTensor, mask: DeviceTensor,
                          heads: Int, scale: Float?, into out: DeviceTensor) throws {
        let op = "attention"
        let (b, s, heads, d) = try OpChecks.attention(query: query, key: key, value: value, mask: mask, heads: heads, out: out)
        let (tq, tk, tv, tm, to) = (try cl(query, op), try cl(key, op), try cl(value, op), try cl(mask, op), try cl(out, op))
        guard to !== tq, to !== tk, to !== tv else {
            throw QuiverError.invalidArgument("attention: out must be a different tensor from query, key and value")
        }
        let scale = scale ?? (d > 0 ? 1 / Float(d).squareRoot() : 1)
        guard scale.isFinite else { throw QuiverError.invalidArgument("attention: scale must be finite, got \(scale)") }
        guard b > 0, s > 0, d > 0 else { return }
        let (k, config) = try attentionKernel(headDim: d)
        let unit = s * heads * d
        let operands = [SplitOperand(tensor: tq, name: "query", unitElements: unit),
                        SplitOperand(tensor: tk, name: "key", unitElements: unit),
                        SplitOperand(tensor: tv, name: "value", unitElements: unit),
                        SplitOperand(tensor: tm, name: "mask", unitElements: s),
                        SplitOperand(tensor: to, name: "out", unitElements: unit)]
        // Grid dimension 1 is (batch, head): at most 65535 groups per launch.
        for p in try Segmenter.pieces(op: op, units: b, operands: operands, maxUnitsPerPiece: max(1, 65_535 / heads)) {
            let bq = config.queriesPerGroup
            var args: [KernelArg] = []
            for buf in p.buffers { args += [.mem(buf.mem), .ulong(buf.offset)] }
            args += [.int(s), .int(heads), .float(scale)]
            try KernelLauncher.launch(k, on: context, args: args,
                                      global: [(s + bq - 1) / bq * bq, p.count * heads], local: [bq, 1])
        }
    }

    /// The attention kernel for head size `d` and the block sizes it was built with. Default
    /// configurations shrink (keys per tile, then queries per group) until local memory and the
    /// kernel's work-group limit fit; a caller-given configuration that does not fit throws.
    func attentionKernel(headDim d: Int) throws -> (CLKernel, KernelConfig.Attention) {
        var config = kernelConfig.attention
        guard config.queriesPerGroup >= 1, config.keysPerTile >= 1 else {
            throw QuiverError.invalidArgument("KernelConfig.Attention: block sizes must be ≥ 1, got \(config)")
        }
        let localLimit = Int(min(openCLDevice.localMemoryBytes, UInt64(Int.max)))
        while true {
            if config.localMemoryBytes(headDim: d) <= localLimit {
                let k = try kernel(.attention, config.defines(headDim: d), "attention")
                if k.workGroupSize >= config.queriesPerGroup { return (k, config) }
            }
            guard !customConfig else {
                throw QuiverError.invalidArgument(
                    "attention: KernelConfig.Attention \(config.queriesPerGroup)×\(config.keysPerTile) does not fit the device "
                        + "for head size \(d) (\(config.localMemoryBytes(headDim: d)) of \(localLimit) bytes of local memory, "
                        + "or too many work-items per group)")
            }
            if config.keysPerTile > 8 {
                config.keysPerTile /= 2
            } else if config.queriesPerGroup > 1 {
                config.queriesPerGroup /= 2
            } else {
                throw QuiverError.invalidArgument("attention: head size \(d) needs more local memory than the device has (\(localLimit) bytes)")
            }
        }
    }
}
