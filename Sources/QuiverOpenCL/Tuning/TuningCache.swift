import Foundation
import QuiverCore

/// The user's tuning cache file: per device, the kernel parameters `quiver tune` chose.
///
/// Reads never throw: a missing file means "untuned", an unreadable or corrupt one is reported
/// (`Lookup.ignored`) and otherwise treated as missing. Writes merge with the entries of other
/// devices under an exclusive `flock` on `<path>.lock`, and replace the file atomically (temp file
/// in the same directory, fsync, rename, fsync of the directory): a reader, or a process killed at
/// any point, sees either the old file or the new one, never a mix.
public struct TuningCache: Sendable, Equatable {
    /// The cache file.
    public let path: String

    public init(path: String) { self.path = path }

    /// `$QUIVER_TUNING_CACHE` (the values `off` / `none` disable tuned configurations), else
    /// `$QUIVER_CACHE_DIR/tuning.json`, else `$XDG_CACHE_HOME/quiver/tuning.json`, else
    /// `~/.cache/quiver/tuning.json`. nil when disabled or no location is known.
    public static func defaultLocation(environment: [String: String] = ProcessInfo.processInfo.environment) -> TuningCache? {
        if let value = environment["QUIVER_TUNING_CACHE"], !value.isEmpty {
            return ["off", "none"].contains(value.lowercased()) ? nil : TuningCache(path: value)
        }
        if let dir = environment["QUIVER_CACHE_DIR"], !dir.isEmpty { return TuningCache(path: (dir as NSString).appendingPathComponent("tuning.json")) }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return TuningCache(path: (xdg as NSString).appendingPathComponent("quiver/tuning.json")) }
        if let home = environment["HOME"], !home.isEmpty { return TuningCache(path: (home as NSString).appendingPathComponent(".cache/quiver/tuning.json")) }
        return nil
    }

    /// What the file holds, without throwing.
    public enum Contents: Sendable {
        case missing
        case loaded(TuningFile)
        /// The file exists but cannot be used; the sentence says why.
        case unusable(String)
    }

    public func read() -> Contents {
        guard FileManager.default.fileExists(atPath: path) else { return .missing }
        guard let data = FileManager.default.contents(atPath: path) else {
            return .unusable("tuning cache \(path) cannot be read (check its permissions)")
        }
        do {
            return .loaded(try TuningFile.decode(data))
        } catch {
            return .unusable("tuning cache \(path) is ignored: \(error). Delete it or run `quiver tune` again")
        }
    }

    /// The outcome of looking a device up.
    public enum Lookup: Sendable {
        /// An entry for this device and these kernel sources.
        case tuned(TuningEntry)
        /// No entry for the device (or no file).
        case untuned
        /// The device was tuned against other kernel sources; the entry is not used.
        case stale(TuningEntry)
        /// The file cannot be used; the sentence says why.
        case unusable(String)
    }

    /// The entry for `device` under the current kernel sources (`KernelSourceHash.current()`).
    public func lookup(_ device: TuningKey.Device, kernelSourceHash: String? = KernelSourceHash.current()) -> Lookup {
        switch read() {
        case .missing: return .untuned
        case .unusable(let why): return .unusable(why)
        case .loaded(let file):
            let mine = file.entries.filter { $0.key.device == device }
            if let hash = kernelSourceHash, let entry = mine.first(where: { $0.key.kernelSourceHash == hash }) { return .tuned(entry) }
            return mine.first.map(Lookup.stale) ?? .untuned
        }
    }

    /// Adds `entry`, replacing the entries of its device and keeping everyone else's. A corrupt
    /// existing file is replaced (its content was unusable anyway); `replacedCorruptFile` says so.
    @discardableResult
    public func store(_ entry: TuningEntry) throws -> (file: TuningFile, replacedCorruptFile: String?) {
        try update { $0.merging(entry) }
    }

    /// Removes the entries of `device` (`quiver tune --reset`). Returns how many there were.
    @discardableResult
    public func remove(_ device: TuningKey.Device) throws -> Int {
        var removed = 0
        try update { file in
            removed = file.entries.filter { $0.key.device == device }.count
            return file.removing(device)
        }
        return removed
    }

    /// Read-modify-write under the lock.
    private func update(_ change: (TuningFile) -> TuningFile) throws -> (file: TuningFile, replacedCorruptFile: String?) {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw QuiverError.io(path: dir, detail: "cannot create the tuning cache directory: \(error.localizedDescription)")
            }
        }
        let lock = open(path + ".lock", O_RDWR | O_CREAT, 0o644)
        guard lock >= 0 else { throw QuiverError.io(path: path + ".lock", detail: "cannot open the lock file: \(Self.errnoText())") }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { throw QuiverError.io(path: path + ".lock", detail: "cannot lock: \(Self.errnoText())") }
        defer { flock(lock, LOCK_UN) }

        var base = TuningFile()
        var corrupt: String?
        switch read() {
        case .missing: break
        case .loaded(let file): base = file
        case .unusable(let why): corrupt = why
        }
        let updated = change(base)
        try Self.writeAtomically(try updated.encoded(), to: path)
        return (updated, corrupt)
    }

    /// Temp file next to `path` (unique per process), fsync, rename over `path`, fsync of the directory.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let temp = path + ".\(getpid()).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw QuiverError.io(path: temp, detail: "cannot create: \(errnoText())") }
        let written = data.withUnsafeBytes { buf -> Bool in
            var offset = 0
            while offset < buf.count {
                let n = write(fd, buf.baseAddress! + offset, buf.count - offset)
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        let synced = written && fsync(fd) == 0
        close(fd)
        guard synced, rename(temp, path) == 0 else {
            let why = errnoText()
            unlink(temp)
            throw QuiverError.io(path: path, detail: "cannot write the tuning cache: \(why)")
        }
        let dir = (path as NSString).deletingLastPathComponent
        let dirFD = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
