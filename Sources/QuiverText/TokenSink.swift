// Where the WordPiece pipeline puts the tokens it finds. The pipeline is generic over the sink, so
// the plain ids path (`[Int32]`) compiles to what it was before offsets existed: the location
// arguments are dropped and normalization records no origins.

/// Receives each token of the pipeline with where it came from.
///
/// Coordinates: `raw` ranges index the input's Unicode scalars; `normalized` ranges index the
/// normalized scalars of the current segment, and `origins[k]` is the input scalar that normalized
/// scalar `k` came from (filled only when `needsOrigins`).
protocol TokenSink {
    /// Whether normalization must record each normalized scalar's input scalar (`Scratch.origins`).
    static var needsOrigins: Bool { get }
    /// Tokens received so far (the pipeline stops at its limit).
    var count: Int { get }
    /// A token matched in the raw text (an added token such as "[SEP]"), scalars `range`.
    mutating func add(_ id: Int32, raw range: Range<Int>)
    /// A token made from the normalized scalars `range` of the current segment.
    mutating func add(_ id: Int32, normalized range: Range<Int>, origins: [Int32])
}

/// The plain path: ids only.
extension Array: TokenSink where Element == Int32 {
    static var needsOrigins: Bool { false }

    @inline(__always)
    mutating func add(_ id: Int32, raw range: Range<Int>) { append(id) }

    @inline(__always)
    mutating func add(_ id: Int32, normalized range: Range<Int>, origins: [Int32]) { append(id) }
}

/// Ids with the input scalars each token covers: `[first, last + 1)` of the input scalars its
/// characters came from (Hugging Face's offsets: the alignment of the token's first normalized
/// character to the alignment of its last).
struct ScalarSpanSink: TokenSink {
    static var needsOrigins: Bool { true }
    var ids: [Int32] = []
    var spans: [Range<Int>] = []

    var count: Int { ids.count }

    mutating func add(_ id: Int32, raw range: Range<Int>) {
        ids.append(id)
        spans.append(range)
    }

    mutating func add(_ id: Int32, normalized range: Range<Int>, origins: [Int32]) {
        ids.append(id)
        spans.append(Int(origins[range.lowerBound])..<(Int(origins[range.upperBound - 1]) + 1))
    }
}
