import Foundation
import QuiverCore
import QuiverCPU
import Testing

/// The backend every test here runs on. Random inputs, uploads (`f32`, `i32`, `values`) and the
/// float64 references come from QuiverTestSupport.
let backend = CPUBackend()

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
