import Foundation
import Testing
import QuiverCore
import QuiverRuntime
import QuiverScoring
import QuiverTestSupport

/// `CatalogConversion` (f16 / int8 with norms and error bounds) and exact rescoring: results on a
/// reduced catalog with `rescore:` must equal the f32 brute force under the tie rule, whether the
/// certificate holds (shortlist) or not (fallback).
@Suite struct ReducedCatalogTests {
    static func converted(_ items: [Float], n: Int, d: Int, _ precision: CatalogConversion.Precision) throws -> (Catalog, Catalog) {
        let original = try Catalog(path: writeCatalog(items, rows: n, dim: d))
        let path = try Scratch.directory("reduced").appendingPathComponent("c.\(precision).safetensors").path
        try CatalogConversion.convert(original, to: precision, output: path)
        return (original, try Catalog(path: path))
    }

    @Test(arguments: CatalogConversion.Precision.allCases)
    func conversionRecordsNormsAndErrorBounds(precision: CatalogConversion.Precision) throws {
        var rng = TestSeed.rng("convert-\(precision)")
        let (n, d) = (40000, 20)   // more rows than one conversion block
        var items = rng.floats(n * d)
        for j in 0..<d { items[7 * d + j] = 0 }                  // an all-zero row
        for j in 0..<d { items[8 * d + j] *= 1000 }              // a large one
        let (_, reduced) = try Self.converted(items, n: n, d: d, precision)
        #expect(reduced.rows == n && reduced.dimension == d && reduced.dtype == (precision == .f16 ? .f16 : .i8))
        let stored = reduced.tile(0..<n).floats()
        let norms = try #require(reduced.originalNorms), errors = try #require(reduced.quantizationError)
        for r in [0, 7, 8, 12345, n - 1] {
            let scale = Double(reduced.scales?[r] ?? 1)
            var norm2 = 0.0, err2 = 0.0, worst = 0.0
            for j in 0..<d {
                let x = Double(items[r * d + j]), back = scale * Double(stored[r * d + j])
                (norm2, err2, worst) = (norm2 + x * x, err2 + (x - back) * (x - back), max(worst, abs(x - back)))
            }
            #expect(abs(Double(norms[r]) - norm2.squareRoot()) <= 1e-5 * max(1, norm2.squareRoot()), "row \(r) norm")
            #expect(Double(errors[r]) >= err2.squareRoot() && Double(errors[r]) <= err2.squareRoot() * 1.001 + 1e-30, "row \(r) error")
            // Storage precision: f16 ≈ 2^-11 relative per value; int8 ≤ half a step of max|x|/127.
            let maxAbs = (0..<d).map { abs(Double(items[r * d + $0])) }.max()!
            #expect(worst <= (precision == .f16 ? maxAbs / 2048 : maxAbs / 254 * 1.0001), "row \(r) value error \(worst)")
        }
    }

    @Test(arguments: CatalogConversion.Precision.allCases, Metric.allCases)
    func rescoredResultsAreExact(precision: CatalogConversion.Precision, metric: Metric) throws {
        let backend = try #require(try TestBackends.backend("cpu"))
        var rng = TestSeed.rng("rescore-\(precision)-\(metric)")
        let (n, q, d, k) = (3000, 70, 32, 10)   // ≥ 64 queries: the CPU's bf16 shortlist path
        // Clustered items: many close scores, so int8 shortlists need the certificate for real.
        let centers = (0..<20).map { _ in rng.floats(d) }
        let items = (0..<n).flatMap { i in zip(centers[i % 20], rng.floats(d, in: -0.05...0.05)).map { $0 + $1 } }
        let queries = rng.floats(q * d)
        let (original, reduced) = try Self.converted(items, n: n, d: d, precision)
        let expected = ScorerTests.reference(metric, queries: queries, items: items, d: d)
        for shortlist in [nil, k] as [Int?] {   // k: no margin, most certificates fail → fallback
            let scorer = try Scorer(backend: backend, catalog: reduced, metric: metric, threads: 2, rescore: original, shortlist: shortlist)
            let result = try scorer.search(Tensor(shape: [q, d], floats: queries), k: k)
            ScorerTests.check(result, metric, expected, k: k, "\(precision) \(metric) shortlist \(shortlist.map(String.init) ?? "default")")
            #expect(scorer.stats.rescored == q)
            if shortlist == k, precision == .int8 { #expect(scorer.stats.fallbacks > 0, "shortlist = k should leave some queries uncertified") }
        }
    }

    /// Values float16 cannot hold, and NaN, are refused naming the row; nothing is written.
    @Test func conversionRefusesValuesItCannotStore() throws {
        var items = [Float](repeating: 0.5, count: 20 * 4)
        items[13 * 4 + 1] = 70000
        let original = try Catalog(path: writeCatalog(items, rows: 20, dim: 4))
        let out = try Scratch.directory("convert-bad").appendingPathComponent("c.safetensors").path
        let error = #expect(throws: QuiverError.self) { try CatalogConversion.convert(original, to: .f16, output: out) }
        #expect(error?.description.contains("row 13") == true)
        #expect(!FileManager.default.fileExists(atPath: out))
        try CatalogConversion.convert(original, to: .int8, output: out)   // int8 scales per row: fine
        items[5 * 4] = .nan
        let withNaN = try Catalog(path: writeCatalog(items, rows: 20, dim: 4))
        let nanError = #expect(throws: QuiverError.self) { try CatalogConversion.convert(withNaN, to: .int8, output: out + "2") }
        #expect(nanError?.description.contains("row 5") == true)
    }

    @Test func rescoreNeedsTheOriginalAndBounds() throws {
        let backend = try #require(try TestBackends.backend("cpu"))
        var rng = TestSeed.rng("rescore-errors")
        let items = rng.floats(100 * 8)
        let (original, reduced) = try Self.converted(items, n: 100, d: 8, .int8)
        let other = try Catalog(path: writeCatalog(rng.floats(99 * 8), rows: 99, dim: 8))
        #expect(throws: QuiverError.self) { try Scorer(backend: backend, catalog: reduced, metric: .dot, threads: 2, rescore: other) }
        #expect(throws: QuiverError.self) { try Scorer(backend: backend, catalog: original, metric: .dot, threads: 2, rescore: original) }
    }
}
