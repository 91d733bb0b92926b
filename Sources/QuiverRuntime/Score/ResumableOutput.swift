#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import QuiverCore

/// An output file written through `<path>.partial` with a checkpoint next to it, so a killed job
/// can continue where its last checkpoint left off and still produce a byte-identical file.
///
/// Crash safety: `checkpoint` first fsyncs the partial file, then replaces `<path>.checkpoint`
/// atomically (temp file, fsync, rename, fsync of the directory). After a crash the checkpoint
/// never claims more bytes than are durably in the partial file; on resume the partial file is
/// cut back to the checkpoint's length. `finish` renames the partial file to `path` and removes
/// the checkpoint, so `path` only ever holds a complete result.
public final class ResumableOutput {
    /// What a checkpoint records.
    public struct State: Codable, Equatable, Sendable {
        public var version = 1
        /// Digest of the job's arguments and inputs; a resume with another digest is refused.
        public var fingerprint: String
        /// Units of work (queries) whose output is in the first `bytes` bytes.
        public var done: Int
        public var bytes: UInt64
    }

    public let path: String
    public var partialPath: String { path + ".partial" }
    public var checkpointPath: String { path + ".checkpoint" }
    public private(set) var state: State
    private var fd: Int32 = -1
    private var written: UInt64

    /// Opens the job's output: resumes from a checkpoint with the same fingerprint, refuses one
    /// with another (unless `restart`), and refuses a finished output unless `overwrite`.
    public init(path: String, fingerprint: String, overwrite: Bool, restart: Bool) throws {
        self.path = path
        state = State(fingerprint: fingerprint, done: 0, bytes: 0)
        written = 0
        let fm = FileManager.default
        if !overwrite, fm.fileExists(atPath: path), !fm.fileExists(atPath: checkpointPath) {
            throw QuiverError.io(path: path, detail: "the output exists (a finished run); pass --overwrite to replace it")
        }
        if let data = fm.contents(atPath: checkpointPath), !restart {
            guard let saved = try? JSONDecoder().decode(State.self, from: data) else {
                throw QuiverError.io(path: checkpointPath, detail: "unreadable checkpoint; pass --restart to start over")
            }
            guard saved.fingerprint == fingerprint else {
                throw QuiverError.io(path: checkpointPath, detail: """
                    this checkpoint belongs to a run with other arguments or inputs (fingerprint \(saved.fingerprint), now \(fingerprint)): \
                    a file or option changed since it was written. Rerun the original command to finish it, or pass --restart to start over
                    """)
            }
            fd = open(partialPath, O_WRONLY)
            guard fd >= 0, ftruncate(fd, off_t(saved.bytes)) == 0, lseek(fd, off_t(saved.bytes), SEEK_SET) >= 0 else {
                throw QuiverError.io(path: partialPath, detail: "cannot reopen the partial output to resume (\(MappedFile.errnoText())); pass --restart to start over")
            }
            state = saved
            written = saved.bytes
        } else {
            try? fm.removeItem(atPath: checkpointPath)
            fd = open(partialPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { throw QuiverError.io(path: partialPath, detail: "cannot create: \(MappedFile.errnoText())") }
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Work units already done by an earlier run (0 for a fresh start).
    public var resumedAt: Int { state.done }

    public func append(_ bytes: [UInt8]) throws {
        var offset = 0
        try bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                guard n > 0 else { throw QuiverError.io(path: partialPath, detail: "write failed: \(MappedFile.errnoText())") }
                offset += n
            }
        }
        written += UInt64(bytes.count)
    }

    /// Records that `done` units are complete and durable.
    public func checkpoint(done: Int) throws {
        guard fsync(fd) == 0 else { throw QuiverError.io(path: partialPath, detail: "fsync failed: \(MappedFile.errnoText())") }
        state.done = done
        state.bytes = written
        try Self.writeDurably(try JSONEncoder().encode(state), to: checkpointPath)
    }

    /// Makes the output final: `path` appears complete, the checkpoint goes away.
    public func finish() throws {
        guard fsync(fd) == 0 else { throw QuiverError.io(path: partialPath, detail: "fsync failed: \(MappedFile.errnoText())") }
        close(fd)
        fd = -1
        guard rename(partialPath, path) == 0 else {
            throw QuiverError.io(path: path, detail: "cannot rename \(partialPath) into place: \(MappedFile.errnoText())")
        }
        syncDirectory(of: path)
        try? FileManager.default.removeItem(atPath: checkpointPath)
    }

    /// Writes `data` to `path` via a temporary file, fsync and rename.
    static func writeDurably(_ data: Data, to path: String) throws {
        let temp = path + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw QuiverError.io(path: temp, detail: "cannot create: \(MappedFile.errnoText())") }
        let ok = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) == $0.count } && fsync(fd) == 0
        close(fd)
        guard ok, rename(temp, path) == 0 else { throw QuiverError.io(path: path, detail: "cannot write: \(MappedFile.errnoText())") }
        syncDirectory(of: path)
    }
}

/// fsync of the directory holding `path`, so a rename in it survives a power loss.
func syncDirectory(of path: String) {
    let dir = (path as NSString).deletingLastPathComponent
    let fd = open(dir.isEmpty ? "." : dir, O_RDONLY)
    if fd >= 0 {
        fsync(fd)
        close(fd)
    }
}
