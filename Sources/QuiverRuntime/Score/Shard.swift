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

    /// This shard's queries out of `total`, in whole blocks of `block` queries: blocks
    /// [B·I/N, B·(I+1)/N) of the B = ⌈total/block⌉ blocks. The slices of all shards tile
    /// 0..<total in order, so concatenated shard outputs are the whole run's output; and since
    /// a shard's blocks are exactly the single run's blocks, every query is computed by the same
    /// arithmetic (GEMM rounding depends on a row's place in its block).
    public func slice(_ total: Int, block: Int) -> Range<Int> {
        let blocks = (total + block - 1) / block
        return min(total, blocks * index / count * block)..<min(total, blocks * (index + 1) / count * block)
    }
}
