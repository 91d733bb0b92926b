import Foundation
import QuiverCore

/// Paths to the numpy/safetensors-written fixtures (scripts/fixtures/encoder_parity.py) and a
/// scratch directory for files the tests write.
enum FormatsFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let dir = root.appendingPathComponent("Tests/Fixtures/models/formats")

    static func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    struct Values: Decodable {
        let f32: [Float]
        let f32_shape: [Int]
        let f16: [Float]
        let bf16: [Float]
        let i64: [Int64]
    }

    static func values() throws -> Values {
        try JSONDecoder().decode(Values.self, from: Data(contentsOf: dir.appendingPathComponent("values.json")))
    }

    /// A fresh empty directory under the system temp dir.
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-formats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `bytes` to a new file in `dir` and returns its path.
    static func write(_ bytes: [UInt8], _ name: String, in dir: URL) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: dir.appendingPathComponent(name))) }

    /// A safetensors file: 8-byte little-endian length, the JSON header, the data.
    static func safetensors(header: String, data: [UInt8]) -> [UInt8] {
        let h = Array(header.utf8)
        var n = UInt64(h.count).littleEndian
        return withUnsafeBytes(of: &n) { Array($0) } + h + data
    }
}

extension QuiverError {
    /// The message, for `contains` checks.
    var text: String { description }
}
