import Foundation

/// Parsing of `quiver bench`'s durations and policy specs.
public enum BenchSpec {
    /// A duration such as `50ms`, `1.5s`, `200us`, `2m`; a bare number is in `defaultUnit`
    /// ("s" or "ms").
    public static func duration(_ text: String, defaultUnit: String = "s") throws -> Duration {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60)]
        var number = t, scale: Double?
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            number = String(t.dropLast(suffix.count))
            scale = factor
            break
        }
        if scale == nil { scale = defaultUnit == "ms" ? 1e-3 : 1 }
        guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value.isFinite, value >= 0, let scale else {
            throw QuiverError.invalidArgument("\"\(text)\" is not a duration; write e.g. 50ms, 1.5s or 200us")
        }
        return .nanoseconds(Int64((value * scale * 1e9).rounded()))
    }

    /// A policy: `slo`, `none`, `window` (with the default knobs) or `window:MAX_BATCH:MAX_DELAY`
    /// (e.g. `window:8:5ms`; the delay's bare unit is ms).
    public static func policy(_ text: String, windowMaxBatch: Int = 32, windowMaxDelay: Duration = .milliseconds(5)) throws -> BatchPolicy {
        let parts = text.trimmingCharacters(in: .whitespaces).lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch (parts[0], parts.count) {
        case ("slo", 1): return .slo
        case ("none", 1): return .none
        case ("window", 1): return .window(maxBatch: windowMaxBatch, maxDelay: windowMaxDelay)
        case ("window", 3):
            guard let batch = Int(parts[1]), batch >= 1 else {
                throw QuiverError.invalidArgument("policy \"\(text)\": the max batch \"\(parts[1])\" must be a positive integer")
            }
            return .window(maxBatch: batch, maxDelay: try duration(parts[2], defaultUnit: "ms"))
        default:
            throw QuiverError.invalidArgument("unknown policy \"\(text)\"; use slo, none, window or window:MAX_BATCH:MAX_DELAY (e.g. window:8:5ms)")
        }
    }

    /// Canonical name of a policy, e.g. `window:8:5ms`.
    public static func name(_ policy: BatchPolicy) -> String {
        switch policy {
        case .slo: "slo"
        case .none: "none"
        case let .window(batch, delay): "window:\(batch):\(milliseconds(delay))"
        }
    }

    /// `5ms`, `0.5ms`, `1500ms`: a duration in milliseconds, without trailing zeros.
    public static func milliseconds(_ d: Duration) -> String {
        let ms = Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) * 1e-15
        let rounded = (ms * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? "\(Int(rounded))ms" : "\(rounded)ms"
    }
}
