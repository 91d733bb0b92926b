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
        let r = try GEMMProbe.measure(on: backend, m: m, n: n, k: k, transposeB: transposeB, a: aValues, b: bValues,
                                      repeats: .exactly(repeats),
                                      seed: UInt64.random(in: 0...UInt64.max, using: &rng))
        print(String(format: "gemm %d×%d×%d%@ on %@ (%@): median %.3f ms, %.1f GFLOP/s over %d runs (best %.1f)",
                     m, n, k, transposeB ? " (Bᵀ)" : "", backend.device.backend, backend.device.name, r.medianSeconds * 1e3,
                     r.medianGFLOPS, repeats, r.bestGFLOPS))
        let ok = r.passed
        print(String(format: "check: %d sampled entries vs float64, max error %.2e of Σ|a·b| (%@)", r.checkedEntries, r.maxRelativeError, ok ? "ok" : "FAILED"))
        if !ok { throw ExitCode.failure }
    }
}
