/// A device's FP32 peak and memory bandwidth, the denominators of the GPU suite's "% of peak"
/// figures, and where each came from.
///
/// OpenCL does not expose either figure: FP32 lanes per compute unit are not queryable, and
/// `CL_DEVICE_MAX_CLOCK_FREQUENCY` is a driver figure that need not be the boost clock the
/// datasheets use. So they come from `--peak-gflops` / `--peak-bandwidth`, else from
/// `KnownDevices`, else they are unknown (nil) and no percentage is reported.
public struct DevicePeaks: Codable, Sendable, Equatable {
    /// FP32 peak, GFLOP/s (one FMA = 2 FLOP), or nil when unknown.
    public var fp32GFLOPS: Double?
    /// Memory bandwidth, GB/s (10⁹ bytes per second), or nil when unknown.
    public var memoryGBps: Double?
    /// "--peak-gflops", "table: <entry>" or "unknown".
    public var fp32Source: String
    /// "--peak-bandwidth", "table: <entry>" or "unknown".
    public var memorySource: String

    public init(fp32GFLOPS: Double?, memoryGBps: Double?, fp32Source: String, memorySource: String) {
        (self.fp32GFLOPS, self.memoryGBps, self.fp32Source, self.memorySource) = (fp32GFLOPS, memoryGBps, fp32Source, memorySource)
    }

    /// Overrides first, then the table entry for `name` / `globalMemoryBytes`, else unknown.
    public static func resolve(deviceName name: String, globalMemoryBytes: UInt64,
                               overrideGFLOPS: Double? = nil, overrideGBps: Double? = nil) -> DevicePeaks {
        let entry = KnownDevices.lookup(name: name, globalMemoryBytes: globalMemoryBytes)
        let tableSource = entry.map { "table: \($0.label)" } ?? "unknown"
        return DevicePeaks(fp32GFLOPS: overrideGFLOPS ?? entry?.fp32GFLOPS,
                           memoryGBps: overrideGBps ?? entry?.memoryGBps,
                           fp32Source: overrideGFLOPS != nil ? "--peak-gflops" : tableSource,
                           memorySource: overrideGBps != nil ? "--peak-bandwidth" : tableSource)
    }
}

/// Datasheet figures of devices Quiver is deployed on: FP32 (non-tensor-core) peak at boost clock
/// and memory bandwidth, as NVIDIA publishes them. Matched against the OpenCL device name, which
/// for NVIDIA is the CUDA name ("NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe", "NVIDIA A100-SXM4-80GB").
public enum KnownDevices {
    public struct Entry: Sendable, Equatable {
        /// Human name of the variant, e.g. "NVIDIA H100 SXM5 80GB".
        public var label: String
        /// Lower-case words that must all occur in the device name (split at spaces, '-', '_').
        public var words: [String]
        /// Words that must not occur (tells the SXM part from PCIe/NVL parts of the same name).
        public var excluding: [String] = []
        /// The variant only matches when the device reports at least this much memory (GiB),
        /// for parts sold with two memory sizes and the same name.
        public var minimumMemoryGiB: Double = 0
        public var fp32GFLOPS: Double
        public var memoryGBps: Double
    }

    /// First match wins, so more specific variants come first.
    public static let table: [Entry] = [
        Entry(label: "NVIDIA H100 NVL", words: ["h100", "nvl"], fp32GFLOPS: 60_000, memoryGBps: 3_900),
        Entry(label: "NVIDIA H100 PCIe 80GB", words: ["h100", "pcie"], fp32GFLOPS: 51_000, memoryGBps: 2_000),
        Entry(label: "NVIDIA H100 SXM5 80GB", words: ["h100"], excluding: ["pcie", "nvl"], fp32GFLOPS: 67_000, memoryGBps: 3_350),
        Entry(label: "NVIDIA H200 NVL", words: ["h200", "nvl"], fp32GFLOPS: 60_000, memoryGBps: 4_800),
        Entry(label: "NVIDIA H200 SXM 141GB", words: ["h200"], excluding: ["nvl"], fp32GFLOPS: 67_000, memoryGBps: 4_800),
        Entry(label: "NVIDIA A100 PCIe 80GB", words: ["a100", "pcie"], minimumMemoryGiB: 60, fp32GFLOPS: 19_500, memoryGBps: 1_935),
        Entry(label: "NVIDIA A100 SXM4 80GB", words: ["a100"], excluding: ["pcie"], minimumMemoryGiB: 60, fp32GFLOPS: 19_500, memoryGBps: 2_039),
        Entry(label: "NVIDIA A100 40GB", words: ["a100"], fp32GFLOPS: 19_500, memoryGBps: 1_555),
        Entry(label: "NVIDIA L40S", words: ["l40s"], fp32GFLOPS: 91_600, memoryGBps: 864),
        Entry(label: "NVIDIA L4", words: ["l4"], fp32GFLOPS: 30_300, memoryGBps: 300),
        Entry(label: "NVIDIA A10", words: ["a10"], fp32GFLOPS: 31_200, memoryGBps: 600),
        Entry(label: "NVIDIA T4", words: ["t4"], fp32GFLOPS: 8_100, memoryGBps: 320),
    ]

    /// The table entry for an OpenCL device name and its `CL_DEVICE_GLOBAL_MEM_SIZE`, or nil.
    /// Names are compared word by word, so "L4" does not match "L40S" and "A10" not "A100".
    public static func lookup(name: String, globalMemoryBytes: UInt64) -> Entry? {
        let words = Set(name.lowercased().split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "_" || $0 == "(" || $0 == ")" }).map(String.init))
        let gib = Double(globalMemoryBytes) / Double(1 << 30)
        return table.first { entry in
            entry.words.allSatisfy(words.contains) && !entry.excluding.contains(where: words.contains) && gib >= entry.minimumMemoryGiB
        }
    }
}
