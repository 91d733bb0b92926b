import Foundation
import QuiverCore

/// Writes embedding rows to `.npy` (float32 `[N, dim]`) or `.jsonl` as they come, into a temporary
/// file that is renamed to `path` by `finish()`; `abandon()` removes it. A reader never sees a
/// half-written file under the final name.
public final class EmbeddingWriter {
    public let path: String
    public let dimension: Int
    private let npy: NpyWriter?
    private let jsonl: FileHandle?
    private let temporary: String
    private var rowsWritten = 0

    public init(path: String, dimension: Int) throws {
        self.path = path
        self.dimension = dimension
        if path.hasSuffix(".npy") {
            npy = try NpyWriter(path: path, columns: dimension)
            jsonl = nil
            temporary = ""
        } else {
            temporary = path + ".partial-\(getpid())"
            guard FileManager.default.createFile(atPath: temporary, contents: nil), let h = FileHandle(forWritingAtPath: temporary) else {
                throw QuiverError.io(path: path, detail: "cannot create the output file (is the directory writable?)")
            }
            jsonl = h
            npy = nil
        }
    }

    /// Appends `count` rows of `dimension` floats.
    public func append(rows: [Float], count: Int) throws {
        if let npy {
            try npy.append(rows: rows)
        } else if let jsonl {
            var text = ""
            for r in 0..<count {
                let row = rows[r * dimension..<(r + 1) * dimension]
                text += "{\"index\":\(rowsWritten + r),\"embedding\":[" + row.map { "\($0)" }.joined(separator: ",") + "]}\n"
            }
            jsonl.write(Data(text.utf8))
        }
        rowsWritten += count
    }

    /// Completes the file and moves it to `path`.
    public func finish() throws {
        if let npy { try npy.finish(); return }
        try jsonl?.close()
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
    }

    /// Discards the partial output.
    public func abandon() {
        if npy != nil { return }  // NpyWriter removes its temporary file when it is not finished
        try? jsonl?.close()
        try? FileManager.default.removeItem(atPath: temporary)
    }
}
