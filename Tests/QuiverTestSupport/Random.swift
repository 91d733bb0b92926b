import Foundation
import QuiverRuntime

/// SplitMix64: small, fast, reproducible. Tests draw a fresh seed each run (printed in every
/// failure message via `TestSeed.current`); set `QUIVER_TEST_SEED` to replay a failing run.
/// The same sequence as `quiver bench`'s `BenchRandom` (which it wraps), plus test helpers.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var source: BenchRandom
    public init(seed: UInt64) { source = BenchRandom(seed: seed) }

    public mutating func next() -> UInt64 { source.next() }

    /// Uniform floats in `range`.
    public mutating func floats(_ count: Int, in range: ClosedRange<Float> = -1...1) -> [Float] {
        (0..<count).map { _ in Float.random(in: range, using: &self) }
    }

    /// Standard normal floats (Box–Muller) scaled by `std`.
    public mutating func normals(_ count: Int, std: Float = 1) -> [Float] {
        (0..<count).map { _ in
            let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
            let u2 = Double.random(in: 0..<1, using: &self)
            return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)) * std
        }
    }

    /// A padding mask `[b, s]`: each row keeps a random prefix of 1...s tokens (row lengths vary).
    public mutating func paddingMask(b: Int, s: Int) -> [Int32] {
        var mask = [Int32](repeating: 0, count: b * s)
        for row in 0..<b {
            let kept = s == 0 ? 0 : Int.random(in: 1...s, using: &self)
            for t in 0..<kept { mask[row * s + t] = 1 }
        }
        return mask
    }
}

/// The seed of this test process: `QUIVER_TEST_SEED` or a fresh random one.
public enum TestSeed {
    public static let base: UInt64 = {
        if let text = ProcessInfo.processInfo.environment["QUIVER_TEST_SEED"], let v = UInt64(text) { return v }
        return UInt64.random(in: 1...UInt64.max)
    }()

    /// A generator for one test case; `salt` keeps cases independent of each other and of run order.
    public static func rng(_ salt: String) -> SeededRandom {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in salt.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return SeededRandom(seed: base ^ h)
    }

    /// Appended to failure messages so a failure can be replayed.
    public static var replay: String { "(replay with QUIVER_TEST_SEED=\(base))" }
}
