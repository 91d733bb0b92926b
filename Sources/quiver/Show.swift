import ArgumentParser
import Foundation
import QuiverRuntime

/// `quiver show`: a `quiver score` output for people, with query texts and item titles joined in.
struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a `quiver score` output readably: each query with its best items, their scores and titles.",
        discussion: """
            Line i of --queries is the text of query i and line i of --titles the title of catalog row i. \
            Results that name items by id (score --ids) need the same ids file as --ids to find their titles; \
            results that name queries by id (score --query-ids) need --query-ids to find their texts. \
            Output per query: a line "query <index or id>: <text>", then one line per item: rank, score \
            (4 decimals), item, title; a blank line separates queries.
            """)

    @Argument(help: "A `quiver score` output (.jsonl).") var results: String
    @Option(help: "Query texts in query order (the --texts file given to score).") var queries: String?
    @Option(help: "Format of --queries: text (one per line) or jsonl.") var format: TextInput.Format = .text
    @Option(help: "Item titles, one per line in catalog row order.") var titles: String?
    @Option(help: "Item ids, one per line in catalog row order (the --ids file given to score).") var ids: String?
    @Option(help: "Query ids, one per line in query order (the --query-ids file given to score).") var queryIds: String?
    @Option(help: "Items to print per query (default: all in the results).") var top: Int?

    func validate() throws {
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        let queryTexts = try queries.map { try Self.texts($0, format: format) }
        let itemTitles = try titles.map { try Self.texts($0, format: .text) }
        let itemRow = try ids.map { try Self.rowsById($0) }
        let queryRow = try queryIds.map { try Self.rowsById($0) }

        let input = try TextInput(path: results, format: .text)
        var first = true
        while let line = try input.next() {
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let at = "line \(input.lineNumber)"
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let query = object["query"], let items = object["items"] as? [Any], let scores = object["scores"] as? [NSNumber],
                  items.count == scores.count else {
                throw QuiverError.io(path: results, detail: "\(at): expected {\"query\": …, \"items\": [...], \"scores\": [...]} with as many scores as items (a `quiver score` output)")
            }
            var header = "query \(Self.name(query))"
            if let queryTexts {
                let row = try Self.row(of: query, ids: queryRow, idsFlag: "--query-ids", what: "query", at: at, in: results)
                guard row < queryTexts.count else {
                    throw QuiverError.io(path: queries!, detail: "has \(queryTexts.count) queries but \(results) \(at) names query \(row)")
                }
                header += ": " + queryTexts[row]
            }
            var rows: [(score: String, item: String, title: String?)] = []
            for (item, score) in zip(items, scores).prefix(top ?? items.count) {
                var title: String?
                if let itemTitles {
                    let row = try Self.row(of: item, ids: itemRow, idsFlag: "--ids", what: "item", at: at, in: results)
                    guard row < itemTitles.count else {
                        throw QuiverError.io(path: titles!, detail: "has \(itemTitles.count) titles but \(results) \(at) names catalog row \(row)")
                    }
                    title = itemTitles[row]
                }
                rows.append((String(format: "%.4f", score.doubleValue), Self.name(item), title))
            }
            if !first { print() }
            first = false
            print(header)
            let rankWidth = String(rows.count).count
            let scoreWidth = rows.map(\.score.count).max() ?? 0
            let itemWidth = rows.map(\.item.count).max() ?? 0
            for (i, r) in rows.enumerated() {
                var text = "  " + Self.pad(String(i + 1), rankWidth) + ". " + Self.pad(r.score, scoreWidth) + "  "
                text += r.title.map { r.item.padding(toLength: itemWidth, withPad: " ", startingAt: 0) + "  " + $0 } ?? r.item
                print(text)
            }
        }
    }

    /// A query or item as the results name it: an index/row number or an id.
    private static func name(_ value: Any) -> String {
        if let id = value as? String { return id }
        return (value as? NSNumber).map { "\($0.intValue)" } ?? "\(value)"
    }

    /// The line number (0-based) a result's query or item refers to: its number, or its id's line in `ids`.
    private static func row(of value: Any, ids: [String: Int]?, idsFlag: String, what: String, at: String, in path: String) throws -> Int {
        if let id = value as? String {
            guard let ids else {
                throw QuiverError.io(path: path, detail: "\(at): \(what) \"\(id)\" is an id; pass \(idsFlag) (the ids file given to `quiver score`) to look it up")
            }
            guard let row = ids[id] else { throw QuiverError.io(path: path, detail: "\(at): \(what) id \"\(id)\" is not in the \(idsFlag) file") }
            return row
        }
        guard let n = value as? NSNumber, let row = Int(exactly: n.doubleValue), row >= 0 else {
            throw QuiverError.io(path: path, detail: "\(at): \(what) \(value) is neither a non-negative number nor an id")
        }
        return row
    }

    /// Every text of `path` in order (see `TextInput`).
    private static func texts(_ path: String, format: TextInput.Format) throws -> [String] {
        let input = try TextInput(path: path, format: format)
        var texts: [String] = []
        while let text = try input.next() { texts.append(text) }
        return texts
    }

    /// Line number of each id in an ids file, read as `quiver score` reads it (split at "\n"; the
    /// first of repeated ids wins).
    private static func rowsById(_ path: String) throws -> [String: Int] {
        guard let data = FileManager.default.contents(atPath: path) else { throw QuiverError.io(path: path, detail: "cannot read the ids file") }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return Dictionary(lines.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
