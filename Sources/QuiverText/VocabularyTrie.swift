// Byte trie over the WordPiece vocabulary: greedy longest-match without building substrings.

/// A trie over the UTF-8 bytes of every vocabulary token. Node 0 is the root. Lookups cost one
/// hash probe per byte; a longest-prefix match over a word of n bytes costs O(n).
struct VocabularyTrie: Sendable {
    /// Child edges, keyed by `node << 8 | byte`.
    private var edges: [UInt64: Int32] = [:]
    /// Token id ending at each node, or -1.
    private var terminal: [Int32] = [-1]

    init(_ vocab: [String: Int32]) {
        edges.reserveCapacity(vocab.count * 4)
        terminal.reserveCapacity(vocab.count * 4)
        for (token, id) in vocab {
            var node: Int32 = 0
            for b in token.utf8 {
                let key = UInt64(node) << 8 | UInt64(b)
                if let next = edges[key] {
                    node = next
                } else {
                    let next = Int32(terminal.count)
                    terminal.append(-1)
                    edges[key] = next
                    node = next
                }
            }
            terminal[Int(node)] = id
        }
    }

    /// The node reached from `node` by `bytes`, or nil.
    func walk<S: Sequence>(from node: Int32, _ bytes: S) -> Int32? where S.Element == UInt8 {
        var n = node
        for b in bytes {
            guard let next = edges[UInt64(n) << 8 | UInt64(b)] else { return nil }
            n = next
        }
        return n
    }

    /// Longest token starting at `bytes[start]`, walking from `node` (the root, or the node of the
    /// continuation prefix "##"). Returns its id and the end offset, or nil when no token matches.
    /// Token strings are valid UTF-8, so every match ends on a scalar boundary.
    @inline(__always)
    func longestMatch(from node: Int32, _ bytes: UnsafeBufferPointer<UInt8>, start: Int) -> (id: Int32, end: Int)? {
        var n = node
        var best: (id: Int32, end: Int)? = nil
        var i = start
        while i < bytes.count {
            guard let next = edges[UInt64(n) << 8 | UInt64(bytes[i])] else { break }
            n = next
            i += 1
            let t = terminal[Int(n)]
            if t >= 0 { best = (t, i) }
        }
        return best
    }
}
