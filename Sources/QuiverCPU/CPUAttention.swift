import CBLAS
import QuiverCore

extension CPUBackend {
    /// Multi-head scaled-dot-product attention with a key padding mask.
    /// query, key, value, out: `[B, S, heads·D]`; mask: `[B, S]` i32 (nonzero = real token).
    ///
    /// Work is split into (batch, head, block of query rows) units over the threads; see
    /// `AttentionUnits`. Keys after the last kept one are skipped; a sequence with no kept key
    /// gives zeros. Scratch is one `[rows, S]` block per task, never the `[B, heads, S, S]` scores.
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
        guard heads * d <= Int(Int32.max), s <= Int(Int32.max) else {
            throw QuiverError.invalidArgument("attention: S = \(s) or heads·D = \(heads * d) exceeds OpenBLAS's 32-bit sizes")
        }
        guard b > 0, s > 0, d > 0 else { return }
        let mp = tm.int32s
        // Query blocks: scratch of at most 64K floats per task, and at least 2 units per thread
        // when there are fewer (batch, head) pairs than that.
        let wantBlocks = (2 * threads + b * heads - 1) / (b * heads)
        let blockRows = max(1, min((1 << 16) / s, (s + wantBlocks - 1) / wantBlocks))
        let lengths = (0..<b).map { bi in ((0..<s).last { mp[bi * s + $0] != 0 } ?? -1) + 1 }
        let units = AttentionUnits(
            q: tq.floats, k: tk.floats, v: tv.floats, mask: mp, out: to.floats, heads: heads, s: s, d: d,
            scale: scale ?? 1 / Float(d).squareRoot(), blockRows: blockRows, blocks: (s + blockRows - 1) / blockRows,
            lengths: lengths, dense: (0..<b).map { bi in (0..<lengths[bi]).allSatisfy { mp[bi * s + $0] != 0 } })
        // Many small sgemm calls from our own tasks: OpenBLAS must not thread them as well.
        BLASThreads.shared.singleThreaded(restoring: threads) {
            parallel.forEach(b * heads * units.blocks, costPerItem: blockRows * s * (4 * d + 30)) { range in
                units.run(range)
            }
        }
    }
}

/// One attention call cut into units of (batch b, head h, block of query rows). Per unit:
/// scores = q·kᵀ·scale by `cblas_sgemm` reading the head's columns in place (leading dimension
/// heads·D), masked softmax per row without its division, scores·v by `cblas_sgemm` straight into
/// `out`, then each output row (D floats) times its row's 1/Σ: a pass over `[rows, D]` instead of
/// over the `[rows, S]` scores.
struct AttentionUnits {
    let q, k, v: UnsafePointer<Float>
    let mask: UnsafePointer<Int32>
    let out: UnsafeMutablePointer<Float>
    let heads, s, d: Int
    let scale: Float
    let blockRows, blocks: Int
    /// Per batch entry: 1 + index of the last kept key (0 when none is kept).
    let lengths: [Int]
    /// Per batch entry: every key before `lengths` is kept (right padding), so softmax needs no mask.
    let dense: [Bool]

    func run(_ range: Range<Int>) {
        let hd = heads * d
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * s)
        let factors = UnsafeMutablePointer<Float>.allocate(capacity: blockRows)
        defer { scores.deallocate(); factors.deallocate() }
        for unit in range {
            let (bh, block) = unit.quotientAndRemainder(dividingBy: blocks)
            let (b, h) = bh.quotientAndRemainder(dividingBy: heads)
            let i0 = block * blockRows, rows = min(blockRows, s - i0)
            let offset = (b * s + i0) * hd + h * d
            let length = lengths[b]
            guard length > 0 else {
                for r in 0..<rows { (out + offset + r * hd).update(repeating: 0, count: d) }
                continue
            }
            let keys = b * s * hd + h * d
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(length), Int32(d),
                        scale, q + offset, Int32(hd), k + keys, Int32(hd), 0, scores, Int32(length))
            let rowMask = dense[b] ? nil : mask + b * s
            for r in 0..<rows {
                let row = scores + r * length
                factors[r] = RowKernels.unnormalizedSoftmax(row, mask: rowMask, out: row, n: length)
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(d), Int32(length),
                        1, scores, Int32(length), v + keys, Int32(hd), 0, out + offset, Int32(hd))
            for r in 0..<rows where factors[r] != 1 {
                let o = out + offset + r * hd
                for j in 0..<d { o[j] *= factors[r] }
            }
        }
    }
}
