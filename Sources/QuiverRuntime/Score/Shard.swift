/// One of `count` equal, contiguous slices of the queries (`--shard I/N`, 0-based I).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public static let whole = Shard(index: 0, count: 1)

    public init(index: Int, count: Int) {
        (self.index, self.count) = (index, count)
    }

    /// Parses "I/N" with 0 ≤ I < N.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else { return nil }
        self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// This shard's queries out of `total`: [total·I/N, total·(I+1)/N). The slices of all shards
    /// tile 0..<total in order, so concatenating shard outputs gives the whole run's output.
    public func slice(_ total: Int) -> Range<Int> {
        (total * index / count)..<(total * (index + 1) / count)
    }
}
