import Foundation

/// Pictures and tables of a `BenchDocument`: an SVG with p99 latency against offered load per
/// policy (the sweep's curves) and the latency CDF of each policy at its highest sustainable
/// rate; the same inside an HTML page with a table; a markdown table.
public enum BenchReport {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// Writes `.svg`, `.html` or `.md` by the extension of `path` (temp file, then rename).
    public static func write(_ document: BenchDocument, to path: String) throws {
        let text: String
        switch (path as NSString).pathExtension.lowercased() {
        case "svg": text = svg(document)
        case "html", "htm": text = html(document)
        case "md": text = markdown(document)
        default: throw QuiverError.invalidArgument("--report \(path): use a .svg, .html or .md file name")
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    // MARK: SVG

    public static func svg(_ doc: BenchDocument) -> String {
        let rows = Double((doc.policies.count + 2) / 3)
        let (width, height) = (1040.0, 460.0 + 20 * rows)
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" \
            font-family="Helvetica, Arial, sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="20" y="24" font-size="15" font-weight="bold">\(escape(title(doc)))</text>
            <text x="20" y="42" fill="#555">\(escape(subtitle(doc)))</text>

            """
        out += loadPanel(doc, frame: Frame(x: 70, y: 80, width: 400, height: 300))
        out += cdfPanel(doc, frame: Frame(x: 590, y: 80, width: 400, height: 300))
        out += legend(doc, x: 70, y: 450)
        return out + "</svg>\n"
    }

    struct Frame {
        var x, y, width, height: Double
        var right: Double { x + width }
        var bottom: Double { y + height }
    }

    static func title(_ doc: BenchDocument) -> String {
        "quiver bench: \(doc.workload)\(doc.model.map { ", \($0)" } ?? ""), p99 target \(number(doc.latencyTargetMs)) ms"
    }

    static func subtitle(_ doc: BenchDocument) -> String {
        "\(doc.backend) · \(doc.cores) cores · \(doc.target) · \(doc.date)"
    }

    /// p99 latency (y, linear, clipped) against offered load (x, log), one line per policy.
    static func loadPanel(_ doc: BenchDocument, frame f: Frame) -> String {
        let target = doc.latencyTargetMs
        // One point per load: a rate measured again (the sweep's retry) shows its best run on the
        // curve and the others as rings.
        let all = doc.policies.map { policy in policy.runs.map { ($0.offeredRate ?? $0.throughput, $0.latencyMs.p99) } }
        let points = all.map { runs in
            Dictionary(runs, uniquingKeysWith: { min($0, $1) }).map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 }
        }
        let xs = points.flatMap { $0.map(\.0) }.filter { $0 > 0 }
        guard let xMin = xs.min(), let xMax = xs.max() else { return "" }
        let lo = log10(xMin) - 0.05, hi = max(log10(xMax) + 0.05, log10(xMin) + 0.2)
        let yMax = niceCeiling(min(max((points.flatMap { $0.map(\.1) }.max() ?? target) * 1.05, target * 1.5), target * 4))
        func px(_ x: Double) -> Double { f.x + (log10(x) - lo) / (hi - lo) * f.width }
        func py(_ y: Double) -> Double { f.bottom - min(y, yMax) / yMax * f.height }

        var s = axes(f, title: "p99 latency vs offered load", xLabel: "offered load (requests/s, log scale)", yLabel: "p99 latency (ms)")
        for tick in logTicks(lo, hi) {
            s += tickX(f, px(tick), number(tick))
        }
        for tick in linearTicks(yMax) { s += tickY(f, py(tick), number(tick)) }
        s += targetLineY(f, py(target), "target \(number(target)) ms")
        for (i, series) in points.enumerated() where !series.isEmpty {
            let color = palette[i % palette.count]
            s += polyline(series.map { (px($0.0), py($0.1)) }, color: color)
            for (x, y) in series {
                s += y > yMax ? marker(px(x), f.y, color: color, clipped: true) : marker(px(x), py(y), color: color, clipped: false)
            }
            for (x, y) in all[i] where y > (series.first { $0.0 == x }?.1 ?? y) {
                s += "<circle cx=\"\(fmt(px(x)))\" cy=\"\(fmt(py(y)))\" r=\"3\" fill=\"white\" stroke=\"\(color)\"/>\n"
            }
            if let best = doc.policies[i].maxSustainableRate, let y = series.first(where: { $0.0 == best })?.1 {
                s += "<circle cx=\"\(fmt(px(best)))\" cy=\"\(fmt(py(y)))\" r=\"6\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            }
        }
        return s
    }

    /// Latency (x, linear) against percentile on a "nines" scale (y = −log10(1 − F)), one line per
    /// policy, at each policy's highest sustainable rate.
    static func cdfPanel(_ doc: BenchDocument, frame f: Frame) -> String {
        let target = doc.latencyTargetMs
        let curves = doc.policies.map { $0.headline?.cdf.filter { $0.count == 2 && $0[1] < 1 } ?? [] }
        let worst = curves.compactMap { $0.last?[0] }.max() ?? target
        let xMax = niceCeiling(min(max(worst * 1.05, target * 1.1), target * 4))
        let nines = 3.0
        func px(_ x: Double) -> Double { f.x + min(x, xMax) / xMax * f.width }
        func py(_ fraction: Double) -> Double { f.bottom - min(-log10(1 - fraction), nines) / nines * f.height }

        let swept = doc.policies.contains { $0.maxSustainableRate != nil }
        var s = axes(f, title: swept ? "latency CDF at each policy's highest sustainable rate" : "latency CDF",
                     xLabel: "latency (ms)", yLabel: "percentile")
        for tick in linearTicks(xMax) { s += tickX(f, px(tick), number(tick)) }
        for (fraction, label) in [(0.0, "0"), (0.9, "90"), (0.99, "99"), (0.999, "99.9")] { s += tickY(f, py(fraction), label) }
        s += "<line x1=\"\(fmt(px(target)))\" y1=\"\(fmt(f.y))\" x2=\"\(fmt(px(target)))\" y2=\"\(fmt(f.bottom))\" stroke=\"#888\" stroke-dasharray=\"6 4\"/>\n"
        s += "<text x=\"\(fmt(px(target) - 4))\" y=\"\(fmt(f.y + 12))\" text-anchor=\"end\" fill=\"#555\">target</text>\n"
        for (i, curve) in curves.enumerated() where !curve.isEmpty {
            // Up to the first point past the axis (drawn at its edge).
            let shown = curve.prefix(while: { $0[0] <= xMax }) + curve.drop(while: { $0[0] <= xMax }).prefix(1)
            s += polyline(shown.map { (px($0[0]), py($0[1])) }, color: palette[i % palette.count])
        }
        return s
    }

    /// One entry per policy, three per row.
    static func legend(_ doc: BenchDocument, x: Double, y: Double) -> String {
        var s = ""
        for (i, policy) in doc.policies.enumerated() {
            let color = palette[i % palette.count]
            let (cx, cy) = (x + Double(i % 3) * 320, y + Double(i / 3) * 20)
            var label = policy.policy
            if let rate = policy.maxSustainableRate {
                label += ": max sustainable \(number(rate)) req/s"
            } else if let rate = policy.headline?.offeredRate {
                label += " at \(number(rate)) req/s"
            }
            s += "<line x1=\"\(fmt(cx))\" y1=\"\(fmt(cy - 4))\" x2=\"\(fmt(cx + 22))\" y2=\"\(fmt(cy - 4))\" stroke=\"\(color)\" stroke-width=\"3\"/>\n"
            s += "<text x=\"\(fmt(cx + 28))\" y=\"\(fmt(cy))\">\(escape(label))</text>\n"
        }
        return s
    }

    // MARK: drawing helpers

    static func axes(_ f: Frame, title: String, xLabel: String, yLabel: String) -> String {
        """
        <text x="\(fmt(f.x))" y="\(fmt(f.y - 14))" font-size="13" font-weight="bold">\(escape(title))</text>
        <rect x="\(fmt(f.x))" y="\(fmt(f.y))" width="\(fmt(f.width))" height="\(fmt(f.height))" fill="none" stroke="#333"/>
        <text x="\(fmt(f.x + f.width / 2))" y="\(fmt(f.bottom + 36))" text-anchor="middle">\(escape(xLabel))</text>
        <text transform="translate(\(fmt(f.x - 46)) \(fmt(f.y + f.height / 2))) rotate(-90)" text-anchor="middle">\(escape(yLabel))</text>

        """
    }

    static func tickX(_ f: Frame, _ x: Double, _ label: String) -> String {
        "<line x1=\"\(fmt(x))\" y1=\"\(fmt(f.y))\" x2=\"\(fmt(x))\" y2=\"\(fmt(f.bottom))\" stroke=\"#eee\"/>"
            + "<text x=\"\(fmt(x))\" y=\"\(fmt(f.bottom + 16))\" text-anchor=\"middle\">\(label)</text>\n"
    }

    static func tickY(_ f: Frame, _ y: Double, _ label: String) -> String {
        "<line x1=\"\(fmt(f.x))\" y1=\"\(fmt(y))\" x2=\"\(fmt(f.right))\" y2=\"\(fmt(y))\" stroke=\"#eee\"/>"
            + "<text x=\"\(fmt(f.x - 6))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">\(label)</text>\n"
    }

    static func targetLineY(_ f: Frame, _ y: Double, _ label: String) -> String {
        "<line x1=\"\(fmt(f.x))\" y1=\"\(fmt(y))\" x2=\"\(fmt(f.right))\" y2=\"\(fmt(y))\" stroke=\"#888\" stroke-dasharray=\"6 4\"/>"
            + "<text x=\"\(fmt(f.x + 6))\" y=\"\(fmt(y - 5))\" fill=\"#555\">\(escape(label))</text>\n"
    }

    static func polyline(_ points: [(Double, Double)], color: String) -> String {
        let list = points.map { "\(fmt($0.0)),\(fmt($0.1))" }.joined(separator: " ")
        return "<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" class=\"series\"/>\n"
    }

    /// A dot, or an open triangle at the top edge for a value above the axis.
    static func marker(_ x: Double, _ y: Double, color: String, clipped: Bool) -> String {
        if clipped {
            return "<path d=\"M\(fmt(x - 4)),\(fmt(y + 7)) L\(fmt(x)),\(fmt(y + 1)) L\(fmt(x + 4)),\(fmt(y + 7)) Z\" fill=\"white\" stroke=\"\(color)\"/>\n"
        }
        return "<circle cx=\"\(fmt(x))\" cy=\"\(fmt(y))\" r=\"3\" fill=\"\(color)\"/>\n"
    }

    /// Powers of ten and their 2× and 5× within [10^lo, 10^hi].
    static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        var ticks: [Double] = []
        for e in Int(lo.rounded(.down))...Int(hi.rounded(.up)) {
            for m in [1.0, 2, 5] {
                let v = m * pow(10, Double(e))
                if log10(v) >= lo && log10(v) <= hi { ticks.append(v) }
            }
        }
        return ticks
    }

    /// 4–8 round ticks from 0 to `max`.
    static func linearTicks(_ max: Double) -> [Double] {
        guard max > 0 else { return [0] }
        let raw = max / 5, magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { max / $0 <= 8 } ?? raw
        return stride(from: 0, through: max + step * 1e-9, by: step).map { $0 }
    }

    /// The smallest 1/2/2.5/5 × 10^k ≥ `value`.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = pow(10, log10(value).rounded(.down))
        return [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= value * (1 - 1e-12) } ?? value
    }

    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    /// Short human form: 1234 → "1234", 12.5 → "12.5", 0.25 → "0.25".
    static func number(_ v: Double) -> String {
        if v >= 100 || v == v.rounded() { return String(Int(v.rounded())) }
        return v >= 10 ? String(format: "%.1f", v) : String(format: "%.3g", v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
