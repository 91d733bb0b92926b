import Foundation

/// Fresh temporary directories for tests that write files.
public enum Scratch {
    /// A new empty directory `quiver-<label>-<uuid>` under the system temp dir.
    public static func directory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
