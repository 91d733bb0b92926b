/// Error measures used by the op tests. Each test states its tolerance next to the call.
public enum Compare {
    /// max_i |actual_i − expected_i| / max(max_i |expected_i|, floor): error relative to the
    /// largest reference magnitude, so values near zero don't blow it up.
    public static func maxRelativeError(_ actual: [Float], _ expected: [Double], floor: Double = 1e-30) -> Double {
        guard actual.count == expected.count else { return .infinity }
        let scale = max(expected.map(abs).max() ?? 0, floor)
        var worst = 0.0
        for (a, e) in zip(actual, expected) {
            let d = abs(Double(a) - e)
            if d.isNaN { return .infinity }
            worst = max(worst, d / scale)
        }
        return worst
    }

    /// max_i |actual_i − expected_i| / magnitude_i: per-element error relative to Σ|a||b| of that
    /// element's dot product (the bound float32 accumulation error scales with).
    public static func maxScaledError(_ actual: [Float], _ expected: [Double], magnitude: [Double]) -> Double {
        guard actual.count == expected.count, magnitude.count == expected.count else { return .infinity }
        var worst = 0.0
        for i in actual.indices {
            let d = abs(Double(actual[i]) - expected[i])
            if d.isNaN { return .infinity }
            worst = max(worst, d / max(magnitude[i], 1e-30))
        }
        return worst
    }

    /// max_i |actual_i − expected_i|.
    public static func maxAbsoluteError(_ actual: [Float], _ expected: [Double]) -> Double {
        guard actual.count == expected.count else { return .infinity }
        return zip(actual, expected).reduce(0.0) { max($0, abs(Double($1.0) - $1.1)) }
    }

    public static func hasNaN(_ values: [Float]) -> Bool { values.contains { $0.isNaN } }
}
