import Foundation
import QuiverCore
import QuiverScoring

/// Per-query items never to return, read from JSONL lines `{"query": Q, "exclude": [ITEM, ...]}`.
///
/// `Q` is a query index (number) or, with query ids, a query id (string). `ITEM` is a catalog
/// row (number) or, with item ids, an item id (string). Lines for the same query add up. Item ids
/// not in the catalog are skipped and counted (items removed from the catalog are common in
/// purchase histories); a row number outside the catalog is an error naming the line.
public struct ExclusionFile: Sendable {
    /// Excluded catalog rows per query index.
    public let rowsByQuery: [Int: [Int32]]
    /// Item ids that matched no catalog item.
    public let unknownItems: Int

    public init(path: String, catalog: Catalog, queryIds: [String]?, queryCount: Int) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw QuiverError.io(path: path, detail: "cannot read the exclusions file")
        }
        let itemRow: [String: Int32]? = catalog.ids.map { ids in
            Dictionary(ids.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { a, _ in a })
        }
        let queryIndex: [String: Int]? = queryIds.map { ids in Dictionary(ids.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a }) }
        var rows: [Int: [Int32]] = [:]
        var unknown = 0
        for (number, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let where_ = "line \(number + 1)"
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let list = object["exclude"] as? [Any], let key = object["query"] else {
                throw QuiverError.io(path: path, detail: "\(where_): expected {\"query\": index or id, \"exclude\": [items]}")
            }
            let query: Int
            if let id = key as? String {
                guard let index = queryIndex?[id] else {
                    throw QuiverError.io(path: path, detail: "\(where_): query id \"\(id)\" is not a known query id (pass --query-ids, or use query indices)")
                }
                query = index
            } else if let n = key as? NSNumber, let index = Int(exactly: n.doubleValue), index >= 0, index < queryCount {
                query = index
            } else {
                throw QuiverError.io(path: path, detail: "\(where_): query \(key) is not an index in 0..<\(queryCount)")
            }
            for item in list {
                if let id = item as? String {
                    guard let itemRow else {
                        throw QuiverError.io(path: path, detail: "\(where_): item \"\(id)\" is an id but the catalog has no ids file (pass --ids, or use row numbers)")
                    }
                    if let row = itemRow[id] { rows[query, default: []].append(row) } else { unknown += 1 }
                } else if let n = item as? NSNumber, let row = Int(exactly: n.doubleValue), row >= 0, row < catalog.rows {
                    rows[query, default: []].append(Int32(row))
                } else {
                    throw QuiverError.io(path: path, detail: "\(where_): item \(item) is not a catalog row in 0..<\(catalog.rows) or an item id")
                }
            }
        }
        rowsByQuery = rows
        unknownItems = unknown
    }
}
