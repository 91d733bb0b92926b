import Foundation

extension BenchReport {
    /// Markdown: one summary row per policy, then every run.
    public static func markdown(_ doc: BenchDocument) -> String {
        var s = "# \(title(doc))\n\n\(subtitle(doc))\n\n"
        if !doc.settings.isEmpty {
            s += "Settings: " + doc.settings.sorted { $0.key < $1.key }.map { "`\($0.key)=\($0.value)`" }.joined(separator: ", ") + "\n\n"
        }
        s += summaryTable(doc) + "\n" + runsTable(doc)
        return s
    }

    /// Per policy: the sustainable rate found, its ratio to each other policy's, and the run at that rate.
    public static func summaryTable(_ doc: BenchDocument) -> String {
        let baseline = doc.policies.first { $0.policy == "none" }?.maxSustainableRate
        var s = "| policy | max sustainable rate (req/s) | × none | p50 (ms) | p99 (ms) | throughput (req/s) | goodput (req/s) | unserved | mean batch rows |\n"
        s += "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for policy in doc.policies {
            let run = policy.headline
            var ratio = "–"
            if let rate = policy.maxSustainableRate, let baseline, baseline > 0 { ratio = String(format: "%.2f×", rate / baseline) }
            s += "| \(policy.policy) | \(policy.maxSustainableRate.map(number) ?? "–") | \(ratio) | "
            s += run.map { r in
                [String(format: "%.1f", r.latencyMs.p50), String(format: "%.1f", r.latencyMs.p99), String(format: "%.0f", r.throughput),
                 String(format: "%.0f", r.goodput), String(format: "%.2f%%", r.unservedFraction * 100), meanRows(r)].joined(separator: " | ")
            } ?? "– | – | – | – | – | –"
            s += " |\n"
        }
        return s
    }

    /// Every run, in order.
    public static func runsTable(_ doc: BenchDocument) -> String {
        var s = "| policy | phase | offered | p50 | p90 | p99 | max (ms) | throughput | goodput | overloaded | deadline | failed | mean batch rows | load avg | ok |\n"
        s += "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n"
        for policy in doc.policies {
            for r in policy.runs {
                let offered = r.offeredRate.map { number($0) + "/s" } ?? "\(r.concurrency ?? 0) clients"
                let l = r.latencyMs
                s += "| \(policy.policy) | \(r.phase) | \(offered) | " + [l.p50, l.p90, l.p99, l.max].map { String(format: "%.1f", $0) }.joined(separator: " | ")
                s += " | \(String(format: "%.0f", r.throughput)) | \(String(format: "%.0f", r.goodput)) | \(r.rejectedOverload) | \(r.rejectedDeadline) | \(r.failed)"
                s += " | \(meanRows(r)) | \(r.loadAverage.map { String(format: "%.2f", $0) }.joined(separator: "→")) | \(r.sustainable ? "yes" : "no") |\n"
            }
        }
        return s
    }

    /// A page with the SVG and both tables.
    public static func html(_ doc: BenchDocument) -> String {
        func table(_ markdown: String) -> String {
            let rows = markdown.split(separator: "\n").map { line in
                line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast().map { $0.trimmingCharacters(in: .whitespaces) }
            }
            guard let header = rows.first else { return "" }
            var s = "<table><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>\n"
            for row in rows.dropFirst(2) { s += "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>\n" }
            return s + "</table>\n"
        }
        return """
            <!doctype html>
            <html><head><meta charset="utf-8"><title>\(escape(title(doc)))</title>
            <style>body{font-family:Helvetica,Arial,sans-serif;margin:24px}table{border-collapse:collapse;margin:12px 0}\
            td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}</style>
            </head><body>
            \(svg(doc))
            <h2>Summary</h2>
            \(table(summaryTable(doc)))
            <h2>Runs</h2>
            \(table(runsTable(doc)))
            </body></html>

            """
    }

    private static func meanRows(_ r: RunResult) -> String {
        let text = r.batches["text"] ?? r.batches.values.first
        return text.map { String(format: "%.1f", $0.meanRows) } ?? "–"
    }
}
