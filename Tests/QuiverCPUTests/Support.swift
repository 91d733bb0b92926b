import Foundation
import QuiverCore
import QuiverCPU
import Testing

/// Deterministic random numbers (SplitMix64) so failures reproduce.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func floats(_ n: Int, _ range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<n).map { _ in Float.random(in: range, using: &self) }
    }
}

let backend = CPUBackend()

func upload(_ shape: Shape, _ values: [Float]) throws -> DeviceTensor {
    try backend.tensor(Tensor(shape: shape, floats: values))
}

func upload(_ shape: Shape, ints values: [Int32]) throws -> DeviceTensor {
    try backend.tensor(Tensor(shape: shape, int32s: values))
}

func floats(_ t: DeviceTensor) throws -> [Float] { try backend.download(t).floats() }

/// Largest |got - want| / (atol + rtol·|want|); ≤ 1 passes. Counts NaN/inf mismatches as failures.
func closeness(_ got: [Float], _ want: [Double], rtol: Double = 1e-5, atol: Double = 1e-6) -> Double {
    guard got.count == want.count else { return .infinity }
    var worst = 0.0
    for (g, w) in zip(got, want) {
        if w.isNaN || g.isNaN || w.isInfinite || g.isInfinite {
            if !(Double(g) == w || (g.isNaN && w.isNaN)) { return .infinity }
            continue
        }
        worst = max(worst, abs(Double(g) - w) / (atol + rtol * abs(w)))
    }
    return worst
}

func expectClose(_ got: [Float], _ want: [Double], rtol: Double = 1e-5, atol: Double = 1e-6,
                 _ what: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    let c = closeness(got, want, rtol: rtol, atol: atol)
    #expect(c <= 1, "\(what()): error ratio \(c)", sourceLocation: sourceLocation)
}

/// Float64 reference activations. GELU uses erfc and the sigmoid form of 1 + tanh so that the
/// reference itself keeps its relative accuracy for x ≪ 0 (1 + erf(x) cancels in Double too).
func reference(_ a: Activation, _ x: Double) -> Double {
    switch a {
    case .identity: return x
    case .relu: return max(x, 0)
    case .gelu: return x * 0.5 * erfc(-x / 2.0.squareRoot())
    case .geluTanh:
        let u = (2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)
        return u > -10 ? 0.5 * x * (1 + tanh(u)) : x / (1 + exp(-2 * u))
    case .sigmoid: return 1 / (1 + exp(-x))
    case .tanh: return tanh(x)
    }
}
