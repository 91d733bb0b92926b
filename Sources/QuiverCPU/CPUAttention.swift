import CBLAS
import Foundation
import QuiverCore

extension CPUBackend {
    /// Multi-head scaled-dot-product attention with a key padding mask.
    /// query, key, value, out: `[B, S, heads·D]`; mask: `[B, S]` i32 (nonzero = real token).
    ///
    /// Work is split into (batch, head, block of query rows) units over the threads. Per unit:
    /// scores = q·kᵀ·scale with `cblas_sgemm` reading the head's columns in place (leading
    /// dimension heads·D), masked softmax per row, then scores·v written straight into `out`.
    /// Keys after the last kept one are skipped; a sequence with no kept key gives zeros.
    /// Scratch is one `[rows, S]` block per task, never the whole `[B, heads, S, S]` tensor.
    public func attention(query: DeviceTensor, key: DeviceTensor, value: DeviceTensor, mask: DeviceTensor,
                          heads: Int, scale: Float?, into out: DeviceTensor) throws {
        let (b, s, heads, d) = try OpChecks.attention(query: query, key: key, value: value, mask: mask,
                                                      heads: heads, out: out)
        let op = "attention"
        let (tq, tk, tv, tm, to) = (try cpu(query, op), try cpu(key, op), try cpu(value, op),
                                    try cpu(mask, op), try cpu(out, op))
        guard to !== tq, to !== tk, to !== tv else {
            throw QuiverError.invalidArgument("attention: out must be a different tensor from query, key and value")
        }
        let hd = heads * d
        guard hd <= Int(Int32.max), s <= Int(Int32.max) else {
            throw QuiverError.invalidArgument("attention: S = \(s) or heads·D = \(hd) exceeds OpenBLAS's 32-bit sizes")
        }
        guard b > 0, s > 0, d > 0 else { return }
        let scale = scale ?? 1 / Float(d).squareRoot()
        let (qp, kp, vp, mp, outp) = (tq.floats, tk.floats, tv.floats, tm.int32s, to.floats)
        // Keys past the last kept one carry no weight: process only t < length[b].
        let lengths = (0..<b).map { bi in ((0..<s).last { mp[bi * s + $0] != 0 } ?? -1) + 1 }
        let blockRows = Swift.max(1, Swift.min(s, (1 << 16) / s))
        let blocks = (s + blockRows - 1) / blockRows
        if OpenBLAS.threads != threads { OpenBLAS.setThreads(threads) }

        parallel.forEach(b * heads * blocks, costPerItem: blockRows * s * (4 * d + 30)) { units in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * s)
            defer { scores.deallocate() }
            for unit in units {
                let (bh, block) = unit.quotientAndRemainder(dividingBy: blocks)
                let (bi, h) = bh.quotientAndRemainder(dividingBy: heads)
                let i0 = block * blockRows, rows = Swift.min(blockRows, s - i0)
                let offset = (bi * s + i0) * hd + h * d
                let length = lengths[bi]
                guard length > 0 else {
                    for r in 0..<rows { (outp + offset + r * hd).update(repeating: 0, count: d) }
                    continue
                }
                let keys = bi * s * hd + h * d
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(length), Int32(d),
                            scale, qp + offset, Int32(hd), kp + keys, Int32(hd), 0, scores, Int32(length))
                for r in 0..<rows {
                    let row = scores + r * length
                    RowKernels.softmax(row, mask: mp + bi * s, out: row, n: length)
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(d), Int32(length),
                            1, scores, Int32(length), vp + keys, Int32(hd), 0, outp + offset, Int32(hd))
            }
        }
    }
}
