import Foundation
import Testing
import QuiverRuntime
import QuiverTestSupport

/// `quiver score` as a process: killed with SIGKILL mid-run, the same command resumes and the final
/// file equals an uninterrupted run's, byte for byte.
@Suite(.serialized) struct ScoreCLITests {
    @Test func killNineThenResumeGivesTheSameBytes() throws {
        guard let exe = CLITests.binary else { throw CLITests.MissingBinary() }
        var rng = TestSeed.rng("score-kill")
        let dir = try Scratch.directory("score-kill")
        let (n, q, d) = (20000, 3000, 16)
        let catalog = dir.appendingPathComponent("c.npy").path, queries = dir.appendingPathComponent("q.npy").path
        try Npy.write(Tensor(shape: [n, d], floats: rng.floats(n * d)), to: catalog)
        try Npy.write(Tensor(shape: [q, d], floats: rng.floats(q * d)), to: queries)
        func args(_ out: String) -> [String] {
            ["score", "--catalog", catalog, "--queries", queries, "--k", "20", "--metric", "cosine", "--batch-size", "100",
             "--checkpoint-every", "0", "--output", dir.appendingPathComponent(out).path, "--backend", "cpu"]
        }
        let reference = try CLITests.run(args("ref.jsonl"))
        #expect(reference.status == 0, "\(reference.stderr)")

        let out = dir.appendingPathComponent("out.jsonl").path
        let process = Process()
        process.executableURL = exe
        process.arguments = args("out.jsonl")
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Kill as soon as a checkpoint exists (poll; give up after 60 s).
        var waited = 0
        while !FileManager.default.fileExists(atPath: out + ".checkpoint"), process.isRunning, waited < 6000 {
            usleep(10_000)
            waited += 1
        }
        let killedMidRun = process.isRunning
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(killedMidRun, "the run finished before it could be killed; make the workload bigger")
        #expect(!FileManager.default.fileExists(atPath: out), "no output under the final name after a kill")

        let resumed = try CLITests.run(args("out.jsonl"))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resumed after"), "\(resumed.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(contentsOf: dir.appendingPathComponent("ref.jsonl")))

        let again = try CLITests.run(args("out.jsonl"))
        #expect(again.status != 0 && again.stderr.contains("--overwrite"), "\(again.stderr)")
    }
}
