import Foundation
import QuiverCore

/// Written next to a finished score output as `<output>.manifest.json`: which job (digest of its
/// arguments and inputs, shard excluded) and which slice of the queries the output holds.
public struct ScoreManifest: Codable, Equatable, Sendable {
    public var format = "quiver-score/1"
    public var job: String
    /// [I, N] of `--shard I/N`.
    public var shard: [Int]
    /// [first, end) query indices in the output.
    public var queries: [Int]
    public var totalQueries: Int
    public var k: Int
    public var metric: String
    public var catalog: String
    public var items: Int

    public static func path(for output: String) -> String { output + ".manifest.json" }

    public static func read(for output: String) throws -> ScoreManifest {
        let path = path(for: output)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw QuiverError.io(path: output, detail: "no manifest \(path): not a finished `quiver score` output")
        }
        do { return try JSONDecoder().decode(ScoreManifest.self, from: data) } catch {
            throw QuiverError.io(path: path, detail: "unreadable manifest: \(error)")
        }
    }

    func write(for output: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try ResumableOutput.writeDurably(try encoder.encode(self), to: Self.path(for: output))
    }
}

/// `quiver merge`: shard outputs of one job → the output a single run gives, byte for byte.
///
/// Shards split the queries into contiguous slices (`Shard.slice`), so the merge checks that the
/// inputs come from the same job (manifest digest, shard count) and cover every query exactly
/// once, then concatenates them in query order.
public enum ScoreMerge {
    public static func merge(_ inputs: [String], into output: String, overwrite: Bool) throws {
        guard !inputs.isEmpty else { throw QuiverError.invalidArgument("merge: no shard outputs given") }
        guard overwrite || !FileManager.default.fileExists(atPath: output) else {
            throw QuiverError.io(path: output, detail: "the output exists; pass --overwrite to replace it")
        }
        let manifests = try inputs.map { ($0, try ScoreManifest.read(for: $0)) }.sorted { $0.1.queries[0] < $1.1.queries[0] }
        let first = manifests[0].1
        for (path, m) in manifests where m.job != first.job || m.shard[1] != first.shard[1] {
            throw QuiverError.io(path: path, detail: "comes from another job (job \(m.job), \(m.shard[1]) shards) than \(manifests[0].0) (job \(first.job), \(first.shard[1]) shards)")
        }
        var next = 0
        for (path, m) in manifests {
            guard m.queries[0] == next else {
                let problem = m.queries[0] < next ? "overlaps the shard before it" : "leaves queries \(next)..<\(m.queries[0]) uncovered"
                throw QuiverError.io(path: path, detail: "holds queries \(m.queries[0])..<\(m.queries[1]), which \(problem); pass every shard exactly once")
            }
            next = m.queries[1]
        }
        guard next == first.totalQueries else {
            throw QuiverError.invalidArgument("merge: the shards cover queries 0..<\(next) of \(first.totalQueries); shards are missing")
        }
        let npy = output.hasSuffix(".npy")
        guard manifests.allSatisfy({ $0.0.hasSuffix(".npy") == npy }) else {
            throw QuiverError.invalidArgument("merge: shard outputs and --output must all be .jsonl or all .npy")
        }
        let files = npy ? ScoreJob.npyPaths(output) : [output]
        let out = try ResumableOutput(paths: files, fingerprint: "merge-\(first.job)", overwrite: overwrite, restart: true)
        let k = min(first.k, first.items)
        if npy {
            try out.append(Npy.header(shape: [first.totalQueries, k], descr: "<i4"), to: 0)
            try out.append(Npy.header(shape: [first.totalQueries, k], descr: "<f4"), to: 1)
        }
        for (path, _) in manifests {
            for (file, part) in (npy ? ScoreJob.npyPaths(path) : [path]).enumerated() {
                guard let handle = FileHandle(forReadingAtPath: part) else { throw QuiverError.io(path: part, detail: "cannot read") }
                defer { try? handle.close() }
                // .npy parts: skip each part's own header; the merged header covers every query.
                if npy { try handle.seek(toOffset: UInt64(try Npy.dataOffset(path: part))) }
                while case let chunk = handle.readData(ofLength: 8 << 20), !chunk.isEmpty { try out.append(Array(chunk), to: file) }
            }
        }
        try out.finish()
        var merged = first
        (merged.shard, merged.queries) = ([0, 1], [0, first.totalQueries])
        try merged.write(for: output)
    }
}
