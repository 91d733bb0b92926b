import QuiverCore

/// One GEMM timed on a backend and checked against float64 (`quiver gemm` and the GPU suite).
public struct GEMMMeasurement: Sendable {
    /// Seconds per timed run, each from launch to `synchronize()`.
    public var times: [Double]
    /// Largest |c − exact| / Σ|a·b| over the sampled entries of C.
    public var maxRelativeError: Double
    /// Entries of C compared with float64.
    public var checkedEntries: Int
    /// 2·M·N·K.
    public var flops: Double

    public var medianSeconds: Double { RepeatTimer.median(times) }
    public var bestSeconds: Double { times.min() ?? 0 }
    /// GFLOP/s of the median and the best run.
    public var medianGFLOPS: Double { flops / max(medianSeconds, 1e-12) / 1e9 }
    public var bestGFLOPS: Double { flops / max(bestSeconds, 1e-12) / 1e9 }
    /// Whether every sampled entry is within `GEMMProbe.tolerance`.
    public var passed: Bool { maxRelativeError < GEMMProbe.tolerance }
}

public enum GEMMProbe {
    /// Relative error (of Σ|a·b|) above which a GEMM result is wrong; float32 accumulation over
    /// K ≤ 10⁴ terms stays orders of magnitude below it.
    public static let tolerance = 1e-4

    /// Times `C[m, n] = A[m, k] · op(B)` on `backend` (`b` is `[n, k]` when `transposeB`, else
    /// `[k, n]`; both row-major) and checks `samples` entries of C, at positions drawn from `seed`,
    /// against float64 dot products.
    public static func measure(on backend: any ComputeBackend, m: Int, n: Int, k: Int, transposeB: Bool,
                               a aValues: [Float], b bValues: [Float], repeats: RepeatRule,
                               samples: Int = 256, seed: UInt64 = 1) throws -> GEMMMeasurement {
        let a = try backend.tensor(Tensor(shape: [m, k], floats: aValues))
        let b = try backend.tensor(Tensor(shape: transposeB ? [n, k] : [k, n], floats: bValues))
        let c = try backend.uninitializedBuffer([m, n], .f32)
        let times = try RepeatTimer.measure(repeats) {
            try backend.gemm(a, b, transposeB: transposeB, bias: nil, activation: .identity, into: c)
            try backend.synchronize()
        }
        let result = try backend.download(c).floats()
        var random = BenchRandom(seed: seed)
        var worst = 0.0
        for _ in 0..<samples {
            let i = Int(random.next() % UInt64(m)), j = Int(random.next() % UInt64(n))
            var exact = 0.0, magnitude = 0.0
            for p in 0..<k {
                let x = Double(aValues[i * k + p])
                let y = Double(transposeB ? bValues[j * k + p] : bValues[p * n + j])
                exact += x * y
                magnitude += abs(x * y)
            }
            let error = abs(Double(result[i * n + j]) - exact) / max(magnitude, 1e-30)
            worst = max(worst, error.isNaN ? .infinity : error)
        }
        return GEMMMeasurement(times: times, maxRelativeError: worst, checkedEntries: samples,
                               flops: 2 * Double(m) * Double(n) * Double(k))
    }
}
