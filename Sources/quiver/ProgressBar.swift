import Foundation

/// A one-line progress display on stderr: items done, rate, and (when the total is known as a
/// fraction) percent and ETA. Silent unless stderr is a terminal; redraws at most 10×/s.
final class ProgressBar {
    private let label: String
    private let unit: String
    private let enabled: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast

    init(label: String, unit: String) {
        self.label = label
        self.unit = unit
        enabled = isatty(2) == 1
    }

    /// `fraction` is the share of the whole job done (nil when unknown, e.g. reading a pipe).
    /// `detail` is appended after the rate (e.g. "3.1e9 item·queries/s").
    func update(done: Int, fraction: Double?, detail: String? = nil) {
        guard enabled, Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = Date()
        draw(done: done, fraction: fraction, detail: detail)
    }

    /// Draws the final state and ends the line.
    func finish(done: Int) {
        guard enabled else { return }
        draw(done: done, fraction: 1)
        FileHandle.standardError.write(Data("\n".utf8))
    }

    private func draw(done: Int, fraction: Double?, detail: String? = nil) {
        let elapsed = max(Date().timeIntervalSince(start), 1e-9)
        let rate = Double(done) / elapsed
        var line = "\(label) \(done) \(unit), \(String(format: "%.1f", rate)) \(unit)/s"
        if let fraction, fraction > 0 {
            let width = 24
            let filled = min(width, Int(fraction * Double(width)))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let eta = elapsed * (1 - fraction) / fraction
            line = "\(label) [\(bar)] \(String(format: "%3.0f%%", min(fraction, 1) * 100)) \(done) \(unit), "
                + "\(String(format: "%.1f", rate)) \(unit)/s, ETA \(Self.duration(eta))"
        }
        if let detail { line += ", " + detail }
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
