import Foundation
import QuiverScoring

/// The GPU suite's generated catalogs in a scratch folder: a float32 `.npy` per row count
/// (`SyntheticData.writeCatalog`) and its f16/int8 forms (`CatalogConversion`), made on first
/// use and deleted when no longer needed, so a 10M-row run holds at most the f32 file and one
/// reduced copy on disk. `removeAll()` deletes the folder.
public final class SyntheticCatalogs {
    public let directory: String
    public let dimension: Int
    public let seed: UInt64
    private let log: (String) -> Void

    /// Creates `directory`/quiver-gpu-suite-<pid> (the system temp folder when nil).
    public init(directory: String?, dimension: Int, seed: UInt64, log: @escaping (String) -> Void) throws {
        let base = directory ?? NSTemporaryDirectory()
        self.directory = (base as NSString).appendingPathComponent("quiver-gpu-suite-\(getpid())")
        (self.dimension, self.seed, self.log) = (dimension, seed, log)
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
    }

    /// Path of the `rows`-row catalog in `precision`, generating (or converting) it if needed.
    public func path(rows: Int, _ precision: GPUSuitePlan.Precision) throws -> String {
        let path = name(rows: rows, precision)
        if FileManager.default.fileExists(atPath: path) { return path }
        if precision == .f32 {
            try requireSpace(bytes: UInt64(rows * dimension * 4), for: path)
            let start = Date()
            try SyntheticData.writeCatalog(rows: rows, dimension: dimension, seed: seed, to: path)
            log(String(format: "generated %d × %d f32 catalog in %.1f s", rows, dimension, Date().timeIntervalSince(start)))
        } else {
            let source = try Catalog(path: try self.path(rows: rows, .f32))
            try requireSpace(bytes: UInt64(rows * dimension * (precision == .f16 ? 2 : 1)), for: path)
            let start = Date()
            try CatalogConversion.convert(source, to: precision == .f16 ? .f16 : .int8, output: path)
            log(String(format: "converted it to %@ in %.1f s", precision.rawValue, Date().timeIntervalSince(start)))
        }
        return path
    }

    /// Deletes one generated file (nothing if it was never made).
    public func remove(rows: Int, _ precision: GPUSuitePlan.Precision) {
        try? FileManager.default.removeItem(atPath: name(rows: rows, precision))
    }

    /// Deletes the scratch folder and everything in it.
    public func removeAll() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func name(rows: Int, _ precision: GPUSuitePlan.Precision) -> String {
        (directory as NSString).appendingPathComponent(
            precision == .f32 ? "catalog-\(rows)x\(dimension).npy" : "catalog-\(rows)x\(dimension).\(precision.rawValue).safetensors")
    }

    /// Throws, naming the folder and `--scratch`, when the file system has less than `bytes` + 5% free.
    private func requireSpace(bytes: UInt64, for path: String) throws {
        let attributes = try? FileManager.default.attributesOfFileSystem(forPath: directory)
        guard let free = (attributes?[.systemFreeSize] as? NSNumber)?.uint64Value else { return }
        if free < bytes + bytes / 20 {
            throw QuiverError.io(path: directory, detail: String(
                format: "%@ needs %.1f GB but only %.1f GB are free here; point --scratch at a larger disk or use --size small",
                (path as NSString).lastPathComponent, Double(bytes) / 1e9, Double(free) / 1e9))
        }
    }
}
