import Dispatch

/// How often a benchmark measurement repeats: at least `minRepeats` timed runs after one warm-up,
/// and more until `minSeconds` have been spent, at most `maxRepeats`.
public struct RepeatRule: Sendable, Equatable {
    public var minRepeats: Int
    public var minSeconds: Double
    public var maxRepeats: Int

    public init(minRepeats: Int, minSeconds: Double, maxRepeats: Int) {
        (self.minRepeats, self.minSeconds, self.maxRepeats) = (max(1, minRepeats), max(0, minSeconds), max(1, maxRepeats, minRepeats))
    }

    /// Exactly `n` timed runs.
    public static func exactly(_ n: Int) -> RepeatRule { RepeatRule(minRepeats: n, minSeconds: 0, maxRepeats: n) }
}

/// Wall-clock timing of a synchronous piece of work, for benchmarks.
public enum RepeatTimer {
    /// Seconds of each timed run of `body` after one untimed warm-up run (kernel builds, first
    /// touches, pools), as many runs as `repeats` asks for. `body` must wait for its own work
    /// (e.g. `backend.synchronize()`).
    public static func measure(_ repeats: RepeatRule, _ body: () throws -> Void) rethrows -> [Double] {
        try body()
        var times: [Double] = []
        var spent = 0.0
        while times.count < repeats.maxRepeats && (times.count < repeats.minRepeats || spent < repeats.minSeconds) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            let t = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            times.append(t)
            spent += t
        }
        return times
    }

    /// The median (upper median for an even count); 0 for no samples.
    public static func median(_ samples: [Double]) -> Double {
        samples.isEmpty ? 0 : samples.sorted()[samples.count / 2]
    }
}
