import Foundation
import QuiverCore

/// A 64-bit FNV-1a digest of a job's arguments and the identity of its input files, so a resumed
/// run can tell that nothing it depends on changed.
///
/// A file's identity is its size, modification time and the bytes of its first and last 64 KiB:
/// cheap for multi-gigabyte catalogs, and any rewrite changes at least the modification time.
public struct Fingerprint: Sendable, Equatable, CustomStringConvertible {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public var description: String { String(format: "%016llx", value) }

    public mutating func add(_ text: String) {
        for byte in text.utf8 { mix(byte) }
        mix(0)
    }

    /// Adds the identity of the file at `path`.
    public mutating func addFile(_ path: String) throws {
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch {
            throw QuiverError.io(path: path, detail: "cannot read the file's attributes: \(error.localizedDescription)")
        }
        let size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        add("\(path)|\(size)|\(modified)")
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw QuiverError.io(path: path, detail: "cannot open for reading")
        }
        defer { try? handle.close() }
        let edge: UInt64 = 64 << 10
        for byte in handle.readData(ofLength: Int(edge)) { mix(byte) }
        if size > 2 * edge {
            try handle.seek(toOffset: size - edge)
            for byte in handle.readData(ofLength: Int(edge)) { mix(byte) }
        }
    }

    private mutating func mix(_ byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
    }
}
