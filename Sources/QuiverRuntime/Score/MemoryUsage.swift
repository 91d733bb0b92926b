import Foundation

/// The process's anonymous resident memory (heap, stacks, anonymous mappings — not mapped files
/// such as a memory-mapped catalog), from `RssAnon` in /proc/self/status. nil where unavailable.
/// `peakResidentBytes` is `VmHWM`: the peak of everything resident, mapped catalog pages included.
enum MemoryUsage {
    static func anonymousResidentBytes() -> UInt64? { field("RssAnon:") }
    static func peakResidentBytes() -> UInt64? { field("VmHWM:") }

    private static func field(_ name: String) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            let kb = line.split(separator: " ").dropFirst().first.flatMap { UInt64($0) }
            return kb.map { $0 * 1024 }
        }
        return nil
    }
}
