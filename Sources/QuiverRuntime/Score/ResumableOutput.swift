#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import QuiverCore

/// Output files written through `<file>.partial` with one checkpoint next to the first, so a killed
/// job can continue where its last checkpoint left off and still produce byte-identical files.
///
/// Crash safety: `checkpoint` first fsyncs every partial file, then replaces `<path>.checkpoint`
/// atomically (temp file, fsync, rename, fsync of the directory). After a crash the checkpoint
/// never claims more bytes than are durably in the partial files; on resume each partial file is
/// cut back to the checkpoint's length. `finish` renames the partial files into place and removes
/// the checkpoint, so the final names only ever hold complete results.
public final class ResumableOutput {
    /// What a checkpoint records.
    public struct State: Codable, Equatable, Sendable {
        public var version = 2
        /// Digest of the job's arguments and inputs; a resume with another digest is refused.
        public var fingerprint: String
        /// Units of work (queries) whose output is in the first `bytes[i]` bytes of file i.
        public var done: Int
        public var bytes: [UInt64]
    }

    /// The first file (it names the checkpoint).
    public var path: String { paths[0] }
    public let paths: [String]
    public var checkpointPath: String { path + ".checkpoint" }
    public private(set) var state: State
    private var fds: [Int32] = []
    private var written: [UInt64]

    /// Opens the job's output files: resumes from a checkpoint with the same fingerprint, refuses
    /// one with another (unless `restart`), and refuses finished outputs unless `overwrite`.
    public init(paths: [String], fingerprint: String, overwrite: Bool, restart: Bool) throws {
        self.paths = paths
        state = State(fingerprint: fingerprint, done: 0, bytes: paths.map { _ in 0 })
        written = state.bytes
        let fm = FileManager.default
        if !overwrite, !fm.fileExists(atPath: checkpointPath), let existing = paths.first(where: fm.fileExists(atPath:)) {
            throw QuiverError.io(path: existing, detail: "the output exists (a finished run); pass --overwrite to replace it")
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
            guard saved.bytes.count == paths.count else {
                throw QuiverError.io(path: checkpointPath, detail: "this checkpoint is for \(saved.bytes.count) output files, not \(paths.count); pass --restart to start over")
            }
            for (i, partial) in paths.map(Self.partial).enumerated() {
                let fd = open(partial, O_WRONLY)
                fds.append(fd)
                guard fd >= 0, ftruncate(fd, off_t(saved.bytes[i])) == 0, lseek(fd, off_t(saved.bytes[i]), SEEK_SET) >= 0 else {
                    throw QuiverError.io(path: partial, detail: "cannot reopen the partial output to resume (\(MappedFile.errnoText())); pass --restart to start over")
                }
            }
            state = saved
            written = saved.bytes
        } else {
            try? fm.removeItem(atPath: checkpointPath)
            for partial in paths.map(Self.partial) {
                let fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                fds.append(fd)
                guard fd >= 0 else { throw QuiverError.io(path: partial, detail: "cannot create: \(MappedFile.errnoText())") }
            }
        }
    }

    /// A single-file output.
    public convenience init(path: String, fingerprint: String, overwrite: Bool, restart: Bool) throws {
        try self.init(paths: [path], fingerprint: fingerprint, overwrite: overwrite, restart: restart)
    }

    deinit { for fd in fds where fd >= 0 { close(fd) } }

    static func partial(_ path: String) -> String { path + ".partial" }

    /// Work units already done by an earlier run (0 for a fresh start).
    public var resumedAt: Int { state.done }

    /// Bytes in file `file` so far (checkpointed or not).
    public func size(of file: Int) -> UInt64 { written[file] }

    /// Appends to file `file`.
    public func append(_ bytes: [UInt8], to file: Int = 0) throws {
        var offset = 0
        try bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = write(fds[file], raw.baseAddress! + offset, raw.count - offset)
                guard n > 0 else { throw QuiverError.io(path: Self.partial(paths[file]), detail: "write failed: \(MappedFile.errnoText())") }
                offset += n
            }
        }
        written[file] += UInt64(bytes.count)
    }

    /// Records that `done` units are complete and durable.
    public func checkpoint(done: Int) throws {
        try syncAll()
        state.done = done
        state.bytes = written
        try Self.writeDurably(try JSONEncoder().encode(state), to: checkpointPath)
    }

    /// Makes the output final: the files appear complete, the checkpoint goes away.
    public func finish() throws {
        try syncAll()
        for (i, path) in paths.enumerated() {
            close(fds[i])
            fds[i] = -1
            guard rename(Self.partial(path), path) == 0 else {
                throw QuiverError.io(path: path, detail: "cannot rename \(Self.partial(path)) into place: \(MappedFile.errnoText())")
            }
        }
        syncDirectory(of: path)
        try? FileManager.default.removeItem(atPath: checkpointPath)
    }

    private func syncAll() throws {
        for (i, fd) in fds.enumerated() where fsync(fd) != 0 {
            throw QuiverError.io(path: Self.partial(paths[i]), detail: "fsync failed: \(MappedFile.errnoText())")
        }
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
