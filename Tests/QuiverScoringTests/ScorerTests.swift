import Foundation
import Testing
import QuiverCore
import QuiverRuntime
import QuiverScoring
import QuiverTestSupport

/// Writes `values` as a `[rows, dim]` f32 `.npy` catalog in a fresh scratch directory.
func writeCatalog(_ values: [Float], rows: Int, dim: Int, name: String = "catalog.npy") throws -> String {
    let path = try Scratch.directory("scoring").appendingPathComponent(name).path
    try Npy.write(Tensor(shape: [rows, dim], floats: values), to: path)
    return path
}

/// The Scorer on every backend and metric against the float64 brute force, with the catalog in
/// place/resident and streamed in tiles. Tolerance 1e-4: scores are O(1)–O(10) sums of 32 float32
/// products, whose rounding stays below 1e-5.
@Suite struct ScorerTests {
    static func reference(_ metric: Metric, queries: [Float], items: [Float], d: Int) -> [[TopKReference.Entry]] {
        switch metric {
        case .dot:
            return TopKReference.ranking(queries: queries.doubles, items: items.doubles, d: d)
        case .cosine:
            return TopKReference.ranking(queries: normalized(queries.doubles, d), items: normalized(items.doubles, d), d: d)
        case .l2:
            // Ranked by −‖q − x‖², i.e. the negated squared distance.
            let q = queries.count / d, n = items.count / d
            return (0..<q).map { qi in
                (0..<n).map { r in
                    TopKReference.Entry(row: r, score: -(0..<d).reduce(0.0) { s, c in
                        let diff = Double(queries[qi * d + c]) - Double(items[r * d + c])
                        return s + diff * diff
                    })
                }.sorted(by: TopKReference.ranks)
            }
        }
    }

    static func normalized(_ v: [Double], _ d: Int) -> [Double] {
        stride(from: 0, to: v.count, by: d).flatMap { i -> [Double] in
            let row = v[i..<(i + d)], n = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return row.map { n > 0 ? $0 / n : 0 }
        }
    }

    static func check(_ result: TopKResult, _ metric: Metric, _ ranking: [[TopKReference.Entry]], k: Int, _ label: String) {
        for (qi, expected) in ranking.enumerated() {
            let rows = Array(result.rows[(qi * result.k)..<((qi + 1) * result.k)])
            var scores = Array(result.scores[(qi * result.k)..<((qi + 1) * result.k)])
            if metric == .l2 { scores = scores.map { -$0 } }
            if let problem = TopKReference.mismatch(rows: rows, scores: scores, ranking: expected, k: k, tolerance: 1e-4) {
                Issue.record("\(label) query \(qi): \(problem) \(TestSeed.replay)")
                return
            }
        }
    }

    @Test(arguments: TestBackends.names, Metric.allCases)
    func matchesBruteForce(backendName: String, metric: Metric) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        var rng = TestSeed.rng("scorer-\(backendName)-\(metric)")
        let (q, n, d, k) = (17, 2003, 32, 25)
        let items = rng.floats(n * d), queries = rng.floats(q * d)
        let catalog = try Catalog(path: writeCatalog(items, rows: n, dim: d))
        let expected = Self.reference(metric, queries: queries, items: items, d: d)
        for placement in [Scorer.Placement.automatic, .streamed(tileRows: 300)] {
            let scorer = try Scorer(backend: backend, catalog: catalog, metric: metric, threads: 2, placement: placement)
            let result = try scorer.search(Tensor(shape: [q, d], floats: queries), k: k)
            Self.check(result, metric, expected, k: k, "\(backendName) \(metric) \(placement)")
        }
    }

    /// k = 1, and k beyond the catalog (every item comes back, ranked).
    @Test(arguments: TestBackends.names)
    func kEdgeCases(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        var rng = TestSeed.rng("scorer-k-\(backendName)")
        let (q, n, d) = (5, 37, 8)
        let items = rng.floats(n * d), queries = rng.floats(q * d)
        let scorer = try Scorer(backend: backend, catalog: Catalog(path: writeCatalog(items, rows: n, dim: d)), metric: .dot, threads: 2)
        let expected = Self.reference(.dot, queries: queries, items: items, d: d)
        let one = try scorer.search(Tensor(shape: [q, d], floats: queries), k: 1)
        #expect(one.k == 1)
        Self.check(one, .dot, expected, k: 1, "\(backendName) k=1")
        let all = try scorer.search(Tensor(shape: [q, d], floats: queries), k: 500)
        #expect(all.k == n)
        Self.check(all, .dot, expected, k: n, "\(backendName) k>items")
        #expect(throws: QuiverError.self) { try scorer.search(Tensor(shape: [q, d], floats: queries), k: 0) }
    }

    @Test func f16SafeTensorsCatalogScoresItsStoredValues() throws {
        guard let backend = try TestBackends.backend("cpu") else { return }
        var rng = TestSeed.rng("scorer-f16")
        let (q, n, d, k) = (4, 300, 16, 10)
        let halves = rng.floats(n * d).map { Float16($0) }, queries = rng.floats(q * d)
        let path = try Scratch.directory("scoring").appendingPathComponent("c.safetensors").path
        try halves.withUnsafeBytes { try SafeTensorsWriter.write([.init(name: "embeddings", dtype: .F16, shape: [n, d], bytes: $0)], to: path) }
        let catalog = try Catalog(path: path)
        #expect(catalog.dtype == .f16 && catalog.rows == n && catalog.dimension == d)
        let result = try Scorer(backend: backend, catalog: catalog, metric: .dot, threads: 2).search(Tensor(shape: [q, d], floats: queries), k: k)
        Self.check(result, .dot, Self.reference(.dot, queries: queries, items: halves.map(Float.init), d: d), k: k, "f16")
    }

    @Test func badDataIsAClearError() throws {
        guard let backend = try TestBackends.backend("cpu") else { return }
        var items = [Float](repeating: 0.5, count: 50 * 4)
        items[37 * 4 + 2] = .nan
        let nanPath = try writeCatalog(items, rows: 50, dim: 4)
        let nanError = #expect(throws: QuiverError.self) { try Scorer(backend: backend, catalog: Catalog(path: nanPath), metric: .dot, threads: 2) }
        #expect(nanError?.description.contains("row 37") == true)
        #expect(nanError?.description.contains(nanPath) == true)

        let good = try Catalog(path: writeCatalog([Float](repeating: 1, count: 40), rows: 10, dim: 4))
        let scorer = try Scorer(backend: backend, catalog: good, metric: .dot, threads: 2)
        #expect(throws: QuiverError.self) { try scorer.search(Tensor(shape: [2, 5], floats: .init(repeating: 0, count: 10)), k: 3) }
        let badQuery = #expect(throws: QuiverError.self) { try scorer.search(Tensor(shape: [2, 4], floats: [0, 0, 0, 0, 1, .infinity, 0, 0]), k: 3, firstQuery: 100) }
        #expect(badQuery?.description.contains("query 101") == true)

        let dir = try Scratch.directory("scoring-bad")
        let truncated = dir.appendingPathComponent("t.npy").path
        let full = try Data(contentsOf: URL(fileURLWithPath: writeCatalog([Float](repeating: 1, count: 40), rows: 10, dim: 4)))
        try full.prefix(full.count - 7).write(to: URL(fileURLWithPath: truncated))
        #expect(throws: QuiverError.self) { try Catalog(path: truncated) }
        let empty = try writeCatalog([], rows: 0, dim: 4)
        let emptyError = #expect(throws: QuiverError.self) { try Catalog(path: empty) }
        #expect(emptyError?.description.contains("empty") == true)
        let text = dir.appendingPathComponent("c.txt").path
        try "1 2 3".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(throws: QuiverError.self) { try Catalog(path: text) }
        let ids = dir.appendingPathComponent("ids.txt").path
        try "a\nb\n".write(toFile: ids, atomically: true, encoding: .utf8)
        let idsError = #expect(throws: QuiverError.self) { try good.loadIds(path: ids) }
        #expect(idsError?.description.contains("2 ids") == true)
    }
}
