import Foundation
import QuiverCore

/// Reads texts one at a time from a file or standard input, never holding the whole input.
///
/// Formats:
/// - `text`: one input per line (`\n` or `\r\n`). An empty line is an input (the empty string), so
///   row i of the output is always line i; a final newline does not add an input.
/// - `jsonl`: one JSON object per line with a string field `text` (texts may hold newlines, tabs,
///   any Unicode). Blank lines are skipped. A line that is not such an object is an error naming
///   the line.
public final class TextInput {
    public enum Format: String, Sendable, CaseIterable { case text, jsonl }

    public let path: String
    public let format: Format
    /// Total bytes when known (a regular file), for progress; nil for pipes.
    public let totalBytes: UInt64?
    /// Bytes consumed so far.
    public private(set) var bytesRead: UInt64 = 0
    /// 1-based number of the last line read.
    public private(set) var lineNumber = 0

    private let handle: FileHandle
    /// Bytes read but not yet returned start at `start`; consumed bytes are dropped only when the
    /// buffer is refilled, so reading N lines costs O(total bytes), not O(N · buffer size).
    private var buffer = Data()
    private var start = 0
    private var atEOF = false
    private let chunkSize = 1 << 20

    /// `path` "-" reads standard input.
    public init(path: String, format: Format) throws {
        self.path = path
        self.format = format
        if path == "-" {
            handle = FileHandle.standardInput
            totalBytes = nil
        } else {
            guard let h = FileHandle(forReadingAtPath: path) else {
                throw QuiverError.io(path: path, detail: "cannot open the input file (does it exist and is it readable?)")
            }
            handle = h
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            totalBytes = (attributes?[.type] as? FileAttributeType) == .typeRegular ? (attributes?[.size] as? UInt64) : nil
        }
    }

    /// The next input text, or nil at the end.
    public func next() throws -> String? {
        while let line = try nextLine() {
            switch format {
            case .text:
                return line
            case .jsonl:
                if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
                return try parseJSONL(line)
            }
        }
        return nil
    }

    /// Up to `count` texts (fewer only at the end).
    public func next(_ count: Int) throws -> [String] {
        var texts: [String] = []
        texts.reserveCapacity(count)
        while texts.count < count, let text = try next() { texts.append(text) }
        return texts
    }

    private func parseJSONL(_ line: String) throws -> String {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
        } catch {
            throw QuiverError.io(path: path, detail: "line \(lineNumber): not valid JSON; each line must be an object like {\"text\": \"...\"}")
        }
        guard let dict = object as? [String: Any], let text = dict["text"] as? String else {
            throw QuiverError.io(path: path, detail: "line \(lineNumber): expected an object with a string field \"text\"")
        }
        return text
    }

    /// The next line without its terminator, or nil at the end of input.
    private func nextLine() throws -> String? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                var lineData = buffer[start..<newline]
                start = newline + 1
                bytesRead += UInt64(lineData.count + 1)
                if lineData.last == UInt8(ascii: "\r") { lineData = lineData.dropLast() }
                return try decode(lineData)
            }
            if atEOF {
                guard start < buffer.endIndex else { return nil }
                var rest = buffer[start...]
                start = buffer.endIndex
                bytesRead += UInt64(rest.count)
                if rest.last == UInt8(ascii: "\r") { rest = rest.dropLast() }
                return try decode(rest)
            }
            let chunk = handle.readData(ofLength: chunkSize)
            if chunk.isEmpty {
                atEOF = true
            } else {
                // Drop what was consumed, keep a partial line. (A Data slice keeps its indices, so
                // positions are always taken from buffer.startIndex, never assumed to be 0.)
                var rest = buffer[start...]
                rest.append(chunk)
                buffer = rest
                start = buffer.startIndex
            }
        }
    }

    private func decode(_ data: Data) throws -> String {
        lineNumber += 1
        guard let text = String(data: data, encoding: .utf8) else {
            throw QuiverError.io(path: path, detail: "line \(lineNumber) is not valid UTF-8")
        }
        return text
    }
}
