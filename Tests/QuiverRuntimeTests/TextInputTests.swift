import Foundation
import Testing
import QuiverRuntime

@Suite struct TextInputTests {
    func file(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-input-\(UUID().uuidString)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func all(_ input: TextInput) throws -> [String] {
        var out: [String] = []
        while let t = try input.next() { out.append(t) }
        return out
    }

    @Test func textLinesKeepEmptyLinesAndDropTheFinalNewline() throws {
        let path = try file(Array("a\r\n\nc d\n \n".utf8))
        let input = try TextInput(path: path, format: .text)
        #expect(try all(input) == ["a", "", "c d", " "])
        #expect(input.bytesRead == input.totalBytes)
        #expect(try all(TextInput(path: try file(Array("x\ny".utf8)), format: .text)) == ["x", "y"])
        #expect(try all(TextInput(path: try file([]), format: .text)) == [])
    }

    @Test func jsonlReadsTextFieldsWithNewlinesAndSkipsBlankLines() throws {
        let lines = #"{"text": "line1\nline2\tTab"}"# + "\n\n" + #"{"id": 3, "text": "café 🙂 \u0000 end"}"# + "\r\n"
        let input = try TextInput(path: try file(Array(lines.utf8)), format: .jsonl)
        #expect(try all(input) == ["line1\nline2\tTab", "café 🙂 \u{0} end"])
    }

    @Test func badLinesAreNamed() throws {
        let notJSON = try TextInput(path: try file(Array("{\"text\": \"ok\"}\nnope\n".utf8)), format: .jsonl)
        #expect(try notJSON.next() == "ok")
        let e1 = #expect(throws: QuiverError.self) { try notJSON.next() }
        #expect(e1?.description.contains("line 2: not valid JSON") == true)
        let noText = try TextInput(path: try file(Array("{\"txt\": 1}\n".utf8)), format: .jsonl)
        let e2 = #expect(throws: QuiverError.self) { try noText.next() }
        #expect(e2?.description.contains("line 1: expected an object with a string field \"text\"") == true)
        let badUTF8 = try TextInput(path: try file([0x61, 0x0A, 0xFF, 0xFE, 0x0A]), format: .text)
        #expect(try badUTF8.next() == "a")
        let e3 = #expect(throws: QuiverError.self) { try badUTF8.next() }
        #expect(e3?.description.contains("line 2 is not valid UTF-8") == true)
        #expect(throws: QuiverError.self) { try TextInput(path: "/no/such/input.txt", format: .text) }
    }

    /// ~3 MiB of CRLF lines of varied length: lines straddle the reader's 1 MiB chunks.
    @Test func linesAcrossChunkBoundariesArriveIntact() throws {
        let lines = (0..<60_000).map { i in "line \(i) " + String(repeating: "x", count: (i * 37) % 61) }
        let path = try file(Array((lines.joined(separator: "\r\n") + "\r\n").utf8))
        let input = try TextInput(path: path, format: .text)
        #expect(try all(input) == lines)
        #expect(input.bytesRead == input.totalBytes && input.lineNumber == lines.count)
    }

    @Test func batchesComeInOrder() throws {
        let input = try TextInput(path: try file(Array((0..<10).map { "t\($0)" }.joined(separator: "\n").utf8)), format: .text)
        #expect(try input.next(4) == ["t0", "t1", "t2", "t3"])
        #expect(try input.next(4) == ["t4", "t5", "t6", "t7"])
        #expect(try input.next(4) == ["t8", "t9"])
        #expect(try input.next(4) == [])
    }
}
