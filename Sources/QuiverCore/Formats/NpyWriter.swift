#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams f32 rows into a `.npy` file whose row count is not known up front (`quiver encode`
/// writes embeddings as batches finish). Rows go to `<path>.tmp-<pid>-<random>`; the header is written
/// with room for any row count and patched by `finish()`, which then renames the file into
/// place. Dropping the writer without `finish()` removes the temporary file.
public final class NpyWriter {
    public let path: String
    /// Shape of one row (`[columns]` for a matrix).
    public let rowShape: [Int]
    public private(set) var rows = 0
    private let tempPath: String
    private var fd: Int32
    private let leadingShape: Int?
    private let headerSize: Int
    private var finished = false

    /// A writer for an `[rows, columns]` f32 matrix.
    public convenience init(path: String, columns: Int) throws {
        try self.init(path: path, trailingShape: [columns], leadingShape: nil)
    }

    /// `leadingShape` non-nil: exactly that many rows must be appended.
    init(path: String, trailingShape: [Int], leadingShape: Int?) throws {
        guard trailingShape.allSatisfy({ $0 >= 0 }) else {
            throw QuiverError.io(path: path, detail: "negative .npy dimension in \(trailingShape)")
        }
        self.path = path
        rowShape = trailingShape
        self.leadingShape = leadingShape
        tempPath = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(tempPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw QuiverError.io(path: tempPath, detail: "cannot create: \(MappedFile.errnoText())") }
        // Room for a 20-digit row count: the patched header has the same size.
        headerSize = Npy.header(shape: [Int(Int64.max)] + trailingShape).count
        do { try writeAll(Npy.header(shape: headerShape(rows: 0), total: headerSize)) } catch {
            abandon()
            throw error
        }
    }

    deinit { if !finished { abandon() } }

    /// Appends `rows` rows taken from `values` (row-major, `rows × rowShape` elements).
    public func append(rows count: Int, _ values: [Float]) throws {
        try values.withUnsafeBytes { try appendBytes($0, rows: count) }
    }

    /// Appends a `[rows, columns]` matrix given row-major.
    public func append(rows values: [Float]) throws {
        let perRow = rowShape.reduce(1, *)
        guard perRow > 0, values.count % perRow == 0 else {
            throw QuiverError.io(path: path, detail: "\(values.count) values are not whole rows of \(perRow)")
        }
        try append(rows: values.count / perRow, values)
    }

    func appendBytes(_ bytes: UnsafeRawBufferPointer, rows count: Int) throws {
        guard !finished else { throw QuiverError.io(path: path, detail: "append after finish()") }
        guard bytes.count == count * rowShape.reduce(1, *) * 4 else {
            throw QuiverError.io(path: path, detail: "\(bytes.count / 4) values do not fill \(count) rows of \(rowShape)")
        }
        try writeAll(bytes)
        rows += count
    }

    /// Patches the header with the final row count, flushes, and renames the file to `path`.
    public func finish() throws {
        guard !finished else { return }
        if let leadingShape, leadingShape != rows {
            throw QuiverError.io(path: path, detail: "wrote \(rows) rows, expected \(leadingShape)")
        }
        let header = Npy.header(shape: headerShape(rows: rows), total: headerSize)
        guard header.count == headerSize, lseek(fd, 0, SEEK_SET) == 0 else {
            abandon()
            throw QuiverError.io(path: tempPath, detail: "cannot rewrite the .npy header")
        }
        do { try writeAll(header) } catch { abandon(); throw error }
        let closed = close(fd)
        fd = -1
        finished = true
        guard closed == 0, rename(tempPath, path) == 0 else {
            let text = MappedFile.errnoText()
            unlink(tempPath)
            throw QuiverError.io(path: path, detail: "cannot move \(tempPath) into place: \(text)")
        }
    }

    private func headerShape(rows: Int) -> [Int] {
        [leadingShape ?? rows] + rowShape
    }

    private func writeAll<B: Collection>(_ bytes: B) throws where B.Element == UInt8 {
        try Array(bytes).withUnsafeBytes { try writeAll($0) }
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count, let base = bytes.baseAddress {
            let n = write(fd, base + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw QuiverError.io(path: tempPath, detail: "write failed: \(MappedFile.errnoText())") }
            offset += n
        }
    }

    private func abandon() {
        if fd >= 0 { close(fd) }
        fd = -1
        finished = true
        unlink(tempPath)
    }
}
