import CBLAS
import QuiverCore

extension CPUBackend {
    /// `c = activation(a · op(b) + bias)`: OpenBLAS `cblas_sgemm` (row-major) for the product, then
    /// the bias + activation epilogue as one vectorized pass over c's rows on all threads.
    /// a: `[..., K]` (M rows), b: `[K, N]` or `[N, K]` with `transposeB`, bias: `[N]`, c: `[..., N]`.
    /// K == 0 gives `c = activation(bias or 0)`. c must not be a, b or bias.
    public func gemm(_ a: DeviceTensor, _ b: DeviceTensor, transposeB: Bool, bias: DeviceTensor?,
                     activation: Activation, into c: DeviceTensor) throws {
        let size = try OpChecks.gemm(a, b, transposeB: transposeB, bias: bias, c: c)
        let (ta, tb, tc) = (try cpu(a, "gemm"), try cpu(b, "gemm"), try cpu(c, "gemm"))
        let tbias = try bias.map { try cpu($0, "gemm") }
        guard tc !== ta, tc !== tb, tc !== tbias else {
            throw QuiverError.invalidArgument("gemm: the output c must be a different tensor from a, b and bias")
        }
        let (m, n, k) = (size.m, size.n, size.k)
        guard m <= Int(Int32.max), n <= Int(Int32.max), k <= Int(Int32.max) else {
            throw QuiverError.invalidArgument(
                "gemm: M = \(m), N = \(n), K = \(k) exceeds OpenBLAS's 32-bit sizes; split the rows into smaller batches")
        }
        guard m > 0, n > 0 else { return }
        let cp = tc.floats
        if k == 0 {
            cp.update(repeating: 0, count: m * n)
            epilogue(cp, rows: m, columns: n, bias: tbias?.floats, activation: activation)
            return
        }
        // With a bias, c starts as the bias rows and sgemm accumulates into it (beta = 1): that
        // replaces OpenBLAS's zeroing of c (beta = 0, ~4% of an encode) and the epilogue's bias pass.
        let beta: Float
        if let biasPointer = tbias?.floats {
            parallel.forEach(m, costPerItem: n) { rows in
                for r in rows { (cp + r * n).update(from: biasPointer, count: n) }
            }
            beta = 1
        } else {
            beta = 0
        }
        BLASThreads.shared.prepareForGemm(threads: threads)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, ta.floats, Int32(k),
                    tb.floats, transposeB ? Int32(k) : Int32(n), beta, cp, Int32(n))
        epilogue(cp, rows: m, columns: n, bias: nil, activation: activation)
    }

    /// `c[r, :] = activation(c[r, :] + bias)` for every row, in place; nothing for identity
    /// without a bias. Split by rows, and by column blocks when there are fewer rows than threads
    /// (e.g. one query row against a wide catalog tile).
    func epilogue(_ c: UnsafeMutablePointer<Float>, rows: Int, columns n: Int, bias: UnsafePointer<Float>?,
                  activation: Activation) {
        guard bias != nil || activation != .identity else { return }
        let width = rows >= threads ? n : max(1024, (n / threads + 15) & ~15)
        let blocks = (n + width - 1) / width
        parallel.forEach(rows * blocks, costPerItem: width * Elementwise.cost(activation)) { range in
            for unit in range {
                let (r, block) = unit.quotientAndRemainder(dividingBy: blocks)
                let j = block * width
                let start = c + r * n + j
                Elementwise.apply(activation, start, adding: bias.map { $0 + j }, into: start, count: min(width, n - j))
            }
        }
    }
}
