#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory (`mmap`, `PROT_READ`, `MAP_PRIVATE`). Pages are read
/// from disk on first touch, so opening a multi-gigabyte weight file costs nothing until its
/// tensors are used, and the bytes are never copied onto the heap. Unmapped when released.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// Start of the mapping (nil for an empty file).
    public let base: UnsafeRawPointer?
    public let byteCount: Int

    /// Maps `path`. Throws `QuiverError.io` when it cannot be opened, is not a regular file, or
    /// cannot be mapped.
    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw QuiverError.io(path: path, detail: "cannot open: \(Self.errnoText())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw QuiverError.io(path: path, detail: "cannot stat: \(Self.errnoText())") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw QuiverError.io(path: path, detail: "not a regular file") }
        byteCount = Int(info.st_size)
        if byteCount == 0 {
            base = nil
            return
        }
        guard let p = mmap(nil, byteCount, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw QuiverError.io(path: path, detail: "cannot mmap \(byteCount) bytes: \(Self.errnoText())")
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), byteCount) }
    }

    /// The bytes `range` of the file; the range must lie inside the file (callers validate first).
    public func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        guard let base, range.lowerBound >= 0, range.upperBound <= byteCount else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    public static func errnoText() -> String {
        guard let s = strerror(errno) else { return "errno \(errno)" }
        return String(cString: s)
    }
}
