import Foundation
import QuiverCore
import QuiverOpenCL

/// The tuning cache as `quiver tune` uses it: where it is, saving a run, resetting a device.
public enum TuneStore {
    /// `--cache FILE` if given, else `$QUIVER_TUNING_CACHE`, else the user cache directory
    /// (`TuningCache.defaultLocation`). Throws when `QUIVER_TUNING_CACHE=off` and no flag is given.
    public static func path(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let flag, !flag.isEmpty { return flag }
        guard let cache = TuningCache.defaultLocation(environment: environment) else {
            throw QuiverError.invalidArgument(
                "the tuning cache is disabled (QUIVER_TUNING_CACHE=\(environment["QUIVER_TUNING_CACHE"] ?? "")) and no location is known; "
                    + "pass --cache FILE")
        }
        return cache.path
    }

    /// Stores `tuner`'s entry for `report` in the cache at `path`, merged with other devices'
    /// entries, and records it in the report. Returns a warning when an unusable file was replaced.
    @discardableResult
    public static func save(_ report: inout TuneReport, from tuner: Tuner, to path: String) throws -> String? {
        let entry = tuner.entry(for: report)
        let result = try TuningCache(path: path).store(entry)
        report.cachePath = path
        report.entry = entry
        return result.replacedCorruptFile.map { "replaced an unusable cache file: \($0)" }
    }

    /// Removes the entries of the device `selector` picks (as `quiver tune --device` would) from the
    /// cache at `path`. Returns the device's name and how many entries were removed.
    public static func reset(device selector: DeviceSelector?, path: String) throws -> (device: String, removed: Int) {
        let device = try BackendFactory.pick(selector, from: try OpenCLDiscovery.devices(), requireGPU: false)
        guard FileManager.default.fileExists(atPath: path) else { return (device.name, 0) }
        return (device.name, try TuningCache(path: path).remove(TuningKey.Device(device)))
    }
}
