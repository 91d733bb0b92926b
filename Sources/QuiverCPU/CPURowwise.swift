import QuiverCore

extension CPUBackend {
    /// `out = LayerNorm(x + residual) · gamma + beta` over the last axis H, rows split over the
    /// threads. x, residual, out: `[..., H]`; gamma, beta: `[H]`. `out` may be `x`.
    public func layerNorm(_ x: DeviceTensor, residual: DeviceTensor?, gamma: DeviceTensor, beta: DeviceTensor,
                          epsilon: Float, into out: DeviceTensor) throws {
        try OpChecks.layerNorm(x, residual: residual, gamma: gamma, beta: beta, epsilon: epsilon, out: out)
        let op = "layerNorm"
        let (tx, tg, tb, to) = (try cpu(x, op), try cpu(gamma, op), try cpu(beta, op), try cpu(out, op))
        let tr = try residual.map { try cpu($0, op) }
        let h = tx.shape.last
        let (xp, rp, gp, bp, dst) = (tx.floats, tr?.floats, tg.floats, tb.floats, to.floats)
        parallel.forEach(tx.shape.rows, costPerItem: 8 * h) { rows in
            for r in rows {
                RowKernels.layerNorm(xp + r * h, residual: rp.map { $0 + r * h }, gamma: gp, beta: bp,
                                     epsilon: epsilon, out: dst + r * h, n: h)
            }
        }
    }

    /// Softmax over the last axis N of `x: [B, ..., N]` with an optional `[B, N]` i32 key mask
    /// broadcast over the middle axes. `out` may be `x`.
    public func softmax(_ x: DeviceTensor, mask: DeviceTensor?, into out: DeviceTensor) throws {
        let (b, r, n) = try OpChecks.softmax(x, mask: mask, out: out)
        let (tx, to) = (try cpu(x, "softmax"), try cpu(out, "softmax"))
        let tm = try mask.map { try cpu($0, "softmax") }
        let (xp, mp, op) = (tx.floats, tm?.int32s, to.floats)
        parallel.forEach(b * r, costPerItem: 30 * n) { rows in
            for row in rows {
                RowKernels.softmax(xp + row * n, mask: mp.map { $0 + (row / r) * n }, out: op + row * n, n: n)
            }
        }
    }

    /// Each row of `x: [..., H]` divided by max(‖row‖₂, 1e-12). `out` may be `x`.
    public func l2Normalize(_ x: DeviceTensor, into out: DeviceTensor) throws {
        try OpChecks.elementwise("l2Normalize", inputs: [("x", x)], out: out)
        try OpChecks.notEmpty("l2Normalize", "x", x)
        let (tx, to) = (try cpu(x, "l2Normalize"), try cpu(out, "l2Normalize"))
        let h = tx.shape.last
        let (xp, op) = (tx.floats, to.floats)
        parallel.forEach(tx.shape.rows, costPerItem: 4 * h) { rows in
            for r in rows { RowKernels.l2Normalize(xp + r * h, out: op + r * h, n: h) }
        }
    }

    /// Pools `x: [B, S, H]` into `out: [B, H]`: `.mean` averages the positions whose `mask: [B, S]`
    /// is nonzero (sum / max(count, 1e-9), so no kept position gives zeros); `.cls` takes position 0
    /// (zeros when S == 0).
    public func pool(_ x: DeviceTensor, mask: DeviceTensor, mode: PoolingMode, into out: DeviceTensor) throws {
        let (b, s, h) = try OpChecks.pool(x, mask: mask, out: out)
        let (tx, tm, to) = (try cpu(x, "pool"), try cpu(mask, "pool"), try cpu(out, "pool"))
        let (xp, mp, op) = (tx.floats, tm.int32s, to.floats)
        parallel.forEach(b, costPerItem: mode == .mean ? s * h : h) { batch in
            for bi in batch {
                let dst = op + bi * h
                dst.update(repeating: 0, count: h)
                guard s > 0 else { continue }
                if mode == .cls {
                    dst.update(from: xp + bi * s * h, count: h)
                    continue
                }
                var kept = 0
                for si in 0..<s where mp[bi * s + si] != 0 {
                    kept += 1
                    let row = UnsafePointer(xp + (bi * s + si) * h)
                    Elementwise.apply(.identity, dst, adding: row, into: dst, count: h)
                }
                let divisor = Swift.max(Float(kept), 1e-9)
                for j in 0..<h { dst[j] /= divisor }
            }
        }
    }
}
