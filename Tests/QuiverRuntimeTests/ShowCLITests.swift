import Foundation
import Testing
import QuiverTestSupport

/// `quiver show` as a process, on a small hand-written score output: the exact lines it prints.
@Suite struct ShowCLITests {
    /// Two queries; items named by id (as `score --ids` writes them), a blank line between results.
    static let results = """
        {"query":0,"items":["KIT-7","SHO-2","SHO-10"],"scores":[0.8125,0.5,-0.0625]}

        {"query":1,"items":["SHO-2"],"scores":[0.25]}

        """

    static func files() throws -> URL {
        let dir = try Scratch.directory("show")
        for (name, text) in [("results.jsonl", results), ("ids.txt", "SHO-2\nKIT-7\nSHO-10\n"),
                             ("titles.txt", "Trail Boots\nCast Iron Skillet\nRain Boots\n"),
                             ("queries.txt", "cast iron pan\r\nboots\r\n")] {
            try Data(text.utf8).write(to: dir.appendingPathComponent(name))
        }
        return dir
    }

    @Test func joinsQueryTextsAndTitlesThroughIds() throws {
        let dir = try Self.files()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLITests.run(["show", "results.jsonl", "--queries", "queries.txt", "--titles", "titles.txt", "--ids", "ids.txt"], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == """
            query 0: cast iron pan
              1.  0.8125  KIT-7   Cast Iron Skillet
              2.  0.5000  SHO-2   Trail Boots
              3. -0.0625  SHO-10  Rain Boots

            query 1: boots
              1. 0.2500  SHO-2  Trail Boots

            """)
    }

    @Test func withoutTextsPrintsNamesAndTopCutsEachList() throws {
        let dir = try Self.files()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLITests.run(["show", "results.jsonl", "--top", "2"], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "query 0\n  1. 0.8125  KIT-7\n  2. 0.5000  SHO-2\n\nquery 1\n  1. 0.2500  SHO-2\n")
    }

    @Test func rowNumbersIndexTheTitlesDirectly() throws {
        let dir = try Self.files()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(#"{"query":1,"items":[2,0],"scores":[3.5,12]}"#.utf8).write(to: dir.appendingPathComponent("rows.jsonl"))
        let r = try CLITests.run(["show", "rows.jsonl", "--queries", "queries.txt", "--titles", "titles.txt"], cwd: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "query 1: boots\n  1.  3.5000  2  Rain Boots\n  2. 12.0000  0  Trail Boots\n")
    }

    @Test func errorsNameTheFileAndWhatIsMissing() throws {
        let dir = try Self.files()
        defer { try? FileManager.default.removeItem(at: dir) }
        let noIds = try CLITests.run(["show", "results.jsonl", "--titles", "titles.txt"], cwd: dir)
        #expect(noIds.status != 0 && noIds.stderr.contains("results.jsonl: line 1: item \"KIT-7\" is an id; pass --ids"), "\(noIds.stderr)")

        try Data("SHO-2\nKIT-7\n".utf8).write(to: dir.appendingPathComponent("short-ids.txt"))
        let unknown = try CLITests.run(["show", "results.jsonl", "--titles", "titles.txt", "--ids", "short-ids.txt"], cwd: dir)
        #expect(unknown.status != 0 && unknown.stderr.contains("line 1: item id \"SHO-10\" is not in the --ids file"), "\(unknown.stderr)")

        try Data("{\"query\":0,\"items\":[1],\"scores\":[]}\n".utf8).write(to: dir.appendingPathComponent("bad.jsonl"))
        let bad = try CLITests.run(["show", "bad.jsonl"], cwd: dir)
        #expect(bad.status != 0 && bad.stderr.contains("bad.jsonl: line 1: expected"), "\(bad.stderr)")

        let top = try CLITests.run(["show", "results.jsonl", "--top", "0"], cwd: dir)
        #expect(top.status != 0 && top.stderr.contains("--top must be at least 1"), "\(top.stderr)")
    }
}
