import Foundation

/// Facts about the host the CPU backend reports: CPU model, memory, default thread count.
enum HostInfo {
    /// Contents of `/proc/cpuinfo`, or nil where it cannot be read.
    static func cpuinfo() -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/cpuinfo") else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The first "model name" in `cpuinfo` text, or nil.
    static func modelName(cpuinfo: String) -> String? {
        for line in cpuinfo.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":"),
                  line[..<colon].trimmingCharacters(in: .whitespaces) == "model name" else { continue }
            let name = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty { return name }
        }
        return nil
    }

    /// Threads to use when none are given: `QUIVER_THREADS` when it is a positive integer,
    /// else the active processor count.
    static func defaultThreads(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        if let value = environment["QUIVER_THREADS"], let n = Int(value.trimmingCharacters(in: .whitespaces)), n > 0 {
            return n
        }
        return max(ProcessInfo.processInfo.activeProcessorCount, 1)
    }

    static var physicalMemory: UInt64 { ProcessInfo.processInfo.physicalMemory }
}
