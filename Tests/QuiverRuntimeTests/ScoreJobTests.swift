import Foundation
import Testing
import QuiverRuntime
import QuiverTestSupport

/// The `quiver score` job: results vs the float64 brute force, ids and exclusions, shard + merge
/// and interrupted + resumed runs byte-identical to one uninterrupted run, refusals.
@Suite struct ScoreJobTests {
    struct Fixture {
        let dir: URL
        let catalog: String, queries: String, ids: String
        let items: [Float], query: [Float]
        let n: Int, q: Int, d: Int

        init(_ label: String, n: Int = 3001, q: Int = 157, d: Int = 24) throws {
            var rng = TestSeed.rng("scorejob-\(label)")
            dir = try Scratch.directory("score-\(label)")
            (self.n, self.q, self.d) = (n, q, d)
            items = rng.floats(n * d)
            query = rng.floats(q * d)
            catalog = dir.appendingPathComponent("catalog.npy").path
            queries = dir.appendingPathComponent("queries.npy").path
            ids = dir.appendingPathComponent("ids.txt").path
            try Npy.write(Tensor(shape: [n, d], floats: items), to: catalog)
            try Npy.write(Tensor(shape: [q, d], floats: query), to: queries)
            try (0..<n).map { "item-\($0)" }.joined(separator: "\n").write(toFile: ids, atomically: true, encoding: .utf8)
        }

        func spec(_ output: String, k: Int = 7) -> ScoreJob.Spec {
            ScoreJob.Spec(catalog: catalog, queries: .vectors(path: queries), k: k, metric: .dot,
                          output: dir.appendingPathComponent(output).path)
        }

        @discardableResult
        func run(_ spec: ScoreJob.Spec, progress: (Int, Int) throws -> Void = { _, _ in }) throws -> Data {
            let backend = try #require(try TestBackends.backend("cpu"))
            _ = try ScoreJob(spec: spec, backend: backend, threads: 2).run(progress: progress)
            return spec.output.hasSuffix(".npy") ? Data() : try Data(contentsOf: URL(fileURLWithPath: spec.output))
        }
    }

    struct Line: Decodable { let query: Int; let items: [String]; let scores: [Float] }

    @Test func idsAndExclusionsMatchBruteForce() throws {
        let f = try Fixture("exclude")
        let exclude = f.dir.appendingPathComponent("exclude.jsonl").path
        let full = TopKReference.ranking(queries: f.query.doubles, items: f.items.doubles, d: f.d)
        // Query i excludes its best i % 4 items by id, one by row number, and an unknown id.
        var excluded = [[Int]](repeating: [], count: f.q)
        var lines: [String] = []
        for i in 0..<f.q where i % 3 == 0 {
            let top = full[i].prefix(i % 4).map(\.row)
            excluded[i] = top + [full[i][5].row]
            let ids = top.map { "\"item-\($0)\"" } + ["\(full[i][5].row)", "\"gone\""]
            lines.append("{\"query\": \(i), \"exclude\": [\(ids.joined(separator: ","))]}")
        }
        try lines.joined(separator: "\n").write(toFile: exclude, atomically: true, encoding: .utf8)
        var spec = f.spec("out.jsonl", k: 9)
        (spec.ids, spec.exclude, spec.blockSize) = (f.ids, exclude, 40)
        let data = try f.run(spec)
        let got = try data.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(Line.self, from: Data($0)) }
        let ranking = TopKReference.ranking(queries: f.query.doubles, items: f.items.doubles, d: f.d, excluded: excluded)
        #expect(got.map(\.query) == Array(0..<f.q))
        for (i, line) in got.enumerated() {
            let rows = line.items.map { Int32($0.dropFirst(5))! }
            if let problem = TopKReference.mismatch(rows: rows, scores: line.scores, ranking: ranking[i], k: 9, tolerance: 1e-4) {
                Issue.record("query \(i): \(problem) \(TestSeed.replay)")
                break
            }
        }
    }

    @Test func shardsMergeIntoTheSingleRunByteForByte() throws {
        let f = try Fixture("shards")
        var whole = f.spec("whole.jsonl")
        whole.blockSize = 50
        let single = try f.run(whole)
        var parts: [String] = []
        for i in [2, 0, 1] {
            var spec = f.spec("part\(i).jsonl")
            (spec.shard, spec.blockSize) = (Shard(index: i, count: 3), 50)
            _ = try f.run(spec)
            parts.append(spec.output)
        }
        let merged = f.dir.appendingPathComponent("merged.jsonl").path
        try ScoreMerge.merge(parts, into: merged, overwrite: false)
        #expect(try Data(contentsOf: URL(fileURLWithPath: merged)) == single)
        #expect(throws: QuiverError.self) { try ScoreMerge.merge(Array(parts.prefix(2)), into: merged + "2", overwrite: false) }
        #expect(throws: QuiverError.self) { try ScoreMerge.merge(parts + [parts[0]], into: merged + "3", overwrite: false) }
        #expect(throws: QuiverError.self) { try ScoreMerge.merge(parts, into: merged, overwrite: false) }
        var otherK = f.spec("other.jsonl", k: 3)
        otherK.shard = Shard(index: 1, count: 3)
        _ = try f.run(otherK)
        let mixed = #expect(throws: QuiverError.self) { try ScoreMerge.merge([parts[1], otherK.output, parts[2]], into: merged + "4", overwrite: false) }
        #expect(mixed?.description.contains("another job") == true)
    }

    /// `.npy` output: the arrays hold the JSONL run's rows and scores; npy shards merge too.
    @Test func npyOutputMatchesJSONLAndMerges() throws {
        let f = try Fixture("npy")
        struct RowLine: Decodable { let items: [Int32]; let scores: [Float] }
        var jsonl = f.spec("out.jsonl")
        jsonl.blockSize = 40
        let lines = try f.run(jsonl).split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(RowLine.self, from: Data($0)) }
        var npy = f.spec("out.npy")
        npy.blockSize = 40
        _ = try f.run(npy)
        let rows = try Npy.File(path: f.dir.appendingPathComponent("out.items.npy").path)
        let scores = try Npy.read(path: f.dir.appendingPathComponent("out.scores.npy").path)
        #expect(rows.shape == Shape([f.q, 7]) && scores.shape == Shape([f.q, 7]))
        let rowValues = rows.withData { Array($0.bindMemory(to: Int32.self)) }
        #expect(rowValues == lines.flatMap(\.items))
        #expect(scores.floats() == lines.flatMap(\.scores))
        var parts: [String] = []
        for i in 0..<2 {
            var spec = f.spec("part\(i).npy")
            (spec.shard, spec.blockSize) = (Shard(index: i, count: 2), 40)
            _ = try f.run(spec)
            parts.append(spec.output)
        }
        let merged = f.dir.appendingPathComponent("merged.npy").path
        try ScoreMerge.merge(parts, into: merged, overwrite: false)
        for suffix in ["items", "scores"] {
            #expect(try Data(contentsOf: f.dir.appendingPathComponent("merged.\(suffix).npy")) == Data(contentsOf: f.dir.appendingPathComponent("out.\(suffix).npy")), "\(suffix)")
        }
    }

    struct Interrupted: Error {}

    @Test func interruptedRunResumesToTheSameBytes() throws {
        let f = try Fixture("resume")
        var spec = f.spec("out.jsonl")
        spec.blockSize = 20
        let reference = try f.run({ var s = spec; s.output = f.dir.appendingPathComponent("ref.jsonl").path; return s }())
        spec.checkpointInterval = 0
        #expect(throws: Interrupted.self) {
            _ = try f.run(spec) { done, _ in if done >= 60 { throw Interrupted() } }
        }
        #expect(!FileManager.default.fileExists(atPath: spec.output), "no output under the final name before the job finishes")
        #expect(FileManager.default.fileExists(atPath: spec.output + ".checkpoint"))
        // Garbage after the checkpointed bytes (a write the crash interrupted) must be cut away.
        let partial = try FileHandle(forWritingTo: URL(fileURLWithPath: spec.output + ".partial"))
        try partial.seekToEnd()
        try partial.write(contentsOf: Data("{\"query\":99,\"ite".utf8))
        try partial.close()
        var resumedAt = -1
        let resumed = try f.run(spec) { done, _ in if resumedAt < 0 { resumedAt = done } }
        #expect(resumedAt == 60)
        #expect(resumed == reference)
        #expect(!FileManager.default.fileExists(atPath: spec.output + ".checkpoint"))
    }

    @Test func refusesChangedInputsAndFinishedOutputs() throws {
        let f = try Fixture("refuse")
        var spec = f.spec("out.jsonl")
        (spec.blockSize, spec.checkpointInterval) = (20, 0)
        #expect(throws: Interrupted.self) { _ = try f.run(spec) { done, _ in if done >= 40 { throw Interrupted() } } }
        var changed = spec
        changed.k = 8
        let error = #expect(throws: QuiverError.self) { _ = try f.run(changed) }
        #expect(error?.description.contains("--restart") == true)
        changed.restart = true
        _ = try f.run(changed)
        let finished = #expect(throws: QuiverError.self) { _ = try f.run(changed) }
        #expect(finished?.description.contains("--overwrite") == true)
        changed.overwrite = true
        _ = try f.run(changed)
    }
}
