import ArgumentParser
import Foundation
import QuiverRuntime

/// `quiver gemm`: a small GEMM on the chosen backend, timed and checked against float64.
struct GEMMDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Multiply random matrices C[M,N] = A[M,K]·B[K,N] on a backend; print GFLOP/s and the error vs float64.")

    @Option(help: "Rows of A and C.") var m = 1024
    @Option(help: "Columns of B and C.") var n = 1024
    @Option(help: "Columns of A, rows of B.") var k = 1024
    @Flag(name: .customLong("transpose-b"), help: "Store B as [N, K] and multiply by its transpose (the similarity layout).")
    var transposeB = false
    @Option(help: "Timed repetitions after one warm-up run.") var repeats = 5
    @OptionGroup var backendOptions: BackendOptions

    func validate() throws {
        guard m > 0, n > 0, k > 0 else { throw ValidationError("--m, --n and --k must be positive") }
        guard repeats > 0 else { throw ValidationError("--repeats must be positive") }
    }

    func run() throws {
        let backend = try backendOptions.select().backend
        var rng = SystemRandomNumberGenerator()
        let aValues = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
        let bValues = (0..<(n * k)).map { _ in Float.random(in: -1...1, using: &rng) }
        let bShape: Shape = transposeB ? [n, k] : [k, n]
        let a = try backend.tensor(Tensor(shape: [m, k], floats: aValues))
        let b = try backend.tensor(Tensor(shape: bShape, floats: bValues))
        let c = try backend.buffer([m, n], .f32)

        try backend.gemm(a, b, transposeB: transposeB, bias: nil, activation: .identity, into: c)
        try backend.synchronize()
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try backend.gemm(a, b, transposeB: transposeB, bias: nil, activation: .identity, into: c)
            try backend.synchronize()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let result = try backend.download(c).floats()

        // Check 256 sampled entries against a float64 dot product, relative to Σ|a||b|.
        var worst = 0.0
        for _ in 0..<256 {
            let i = Int.random(in: 0..<m, using: &rng), j = Int.random(in: 0..<n, using: &rng)
            var exact = 0.0, magnitude = 0.0
            for p in 0..<k {
                let x = Double(aValues[i * k + p])
                let y = Double(transposeB ? bValues[j * k + p] : bValues[p * n + j])
                exact += x * y
                magnitude += abs(x * y)
            }
            worst = max(worst, abs(Double(result[i * n + j]) - exact) / max(magnitude, 1e-30))
        }
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        let median = times.sorted()[times.count / 2]
        print(String(format: "gemm %d×%d×%d%@ on %@ (%@): median %.3f ms, %.1f GFLOP/s over %d runs (best %.1f)",
                     m, n, k, transposeB ? " (Bᵀ)" : "", backend.device.backend, backend.device.name, median * 1e3,
                     flops / median / 1e9, repeats, flops / (times.min() ?? median) / 1e9))
        let ok = worst < 1e-4
        print(String(format: "check: 256 sampled entries vs float64, max error %.2e of Σ|a·b| (%@)", worst, ok ? "ok" : "FAILED"))
        if !ok { throw ExitCode.failure }
    }
}
