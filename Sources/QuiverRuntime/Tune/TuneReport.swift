import Foundation
import QuiverOpenCL

/// How one variant fared on one shape.
public struct TuneOutcome: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// Verified and timed.
        case measured
        /// The device cannot run it (work-group size, local memory, build failure); never chosen.
        case skipped
        /// Its output differs from the reference beyond the tolerance; never chosen.
        case rejected
        /// It failed while running (an OpenCL error); never chosen.
        case failed
    }

    public var status: Status
    /// Median of the timed runs, milliseconds (measured only).
    public var medianMs: Double?
    /// Every timed run, milliseconds, in order (fewer than requested when cut short as too slow).
    public var runsMs: [Double]?
    /// The check's error and tolerance (measured and rejected).
    public var error: Double?
    public var tolerance: Double?
    /// Why it was skipped, rejected or failed.
    public var reason: String?
    /// The first, checked run including building its programs (or loading them from the binary cache), milliseconds.
    public var firstRunMs: Double?

    public static func skipped(_ why: String) -> TuneOutcome { TuneOutcome(status: .skipped, reason: why) }
    public static func failed(_ why: String) -> TuneOutcome { TuneOutcome(status: .failed, reason: why) }
}

/// One variant and its outcome on each of its family's shapes (same order as `TuneFamilyResult.shapes`).
public struct TuneVariantResult: Codable, Sendable {
    /// The family's parameters, by name.
    public var parameters: [String: Int]
    public var label: String
    public var isDefault: Bool
    /// The top-k variant assembled from the best filter tiles and the best merge/chunk settings.
    public var isCombination: Bool
    public var outcomes: [TuneOutcome]
    /// Geometric mean over the shapes of time / baseline time (the default's); nil unless measured on every shape.
    public var score: Double?
}

/// One kernel family: its shapes, every variant tried, and the choice.
public struct TuneFamilyResult: Codable, Sendable {
    public var kernel: TuneKernel
    public var shapes: [TuneShape]
    public var variants: [TuneVariantResult]
    /// Index into `variants` of the chosen one (nil: nothing measured on every shape; defaults kept).
    public var chosen: Int?
    /// Index of the default (always 0 in the standard spaces).
    public var defaultIndex: Int
    /// What goes into the cache for this family: the chosen parameters, nil when the default won.
    public var tuned: TunedKernels?

    /// Counts of outcomes by status over every variant × shape.
    public var counts: [TuneOutcome.Status: Int] {
        variants.flatMap(\.outcomes).reduce(into: [:]) { $0[$1.status, default: 0] += 1 }
    }
}

/// Everything one `quiver tune` run did (`--json`).
public struct TuneReport: Codable, Sendable {
    public var device: String
    public var platform: String
    public var key: TuningKey
    /// "quick" or "full".
    public var mode: String
    public var startedAt: String
    public var seconds: Double
    public var timedRuns: Int
    /// 1-minute load average at the start and the end (timings on a busy machine are noisy).
    public var loadAverage: [Double]
    public var families: [TuneFamilyResult]
    /// The cache written (nil when not stored).
    public var cachePath: String?
    /// The entry written to the cache (nil when not stored).
    public var entry: TuningEntry?

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// The summary table: per kernel and shape the default's median, the chosen variant's, the
    /// speedup and the chosen parameters; then per family how many variants were measured,
    /// skipped, rejected or failed.
    public func table() -> String {
        var rows: [[String]] = [["kernel", "shape", "default ms", "tuned ms", "speedup", "chosen parameters"]]
        for f in families {
            let d = f.variants[f.defaultIndex]
            let c = f.chosen.map { f.variants[$0] }
            for (i, shape) in f.shapes.enumerated() {
                let dm = d.outcomes[i].medianMs
                let cm = c?.outcomes[i].medianMs
                let speedup = (dm != nil && cm != nil) ? String(format: "%.2f×", dm! / cm!) : "–"
                let params = c.map { $0.isDefault ? "default: " + $0.label : $0.label } ?? "defaults kept (nothing measured on every shape)"
                rows.append([f.kernel.rawValue, shape.description, Self.ms(dm), Self.ms(cm), speedup, i == 0 ? params : "〃"])
            }
        }
        var lines = Self.align(rows)
        for f in families {
            let n = f.counts
            lines.append("\(f.kernel.rawValue): \(f.variants.count) variants × \(f.shapes.count) shapes: \(n[.measured] ?? 0) measured, "
                + "\(n[.skipped] ?? 0) skipped, \(n[.rejected] ?? 0) rejected, \(n[.failed] ?? 0) failed")
        }
        return lines.joined(separator: "\n")
    }

    static func ms(_ v: Double?) -> String {
        guard let v else { return "–" }
        return v >= 100 ? String(format: "%.0f", v) : v >= 1 ? String(format: "%.2f", v) : String(format: "%.3f", v)
    }

    static func align(_ rows: [[String]]) -> [String] {
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        let numeric: Set<Int> = [2, 3, 4]
        return rows.map { row in
            row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == row.count - 1 ? cell : numeric.contains(c) ? pad + cell : cell + pad
            }.joined(separator: "  ")
        }
    }
}
