/// One query's running top-k as a binary min-heap over two parallel arrays (scores, rows), worst
/// entry at index 0, so a new score is rejected by one compare against `scores[0]` (FAISS's
/// `ResultHandler` idea). "Worse" is the tie rule reversed: lower score, or equal score and higher
/// row; empty slots (row −1) are worse than everything.
///
/// The arrays are the caller's `[k]` slices of a `TopKLists`, which store lists best first; `open`
/// turns such a list into a heap in place and `close` sorts it back.
struct TopKHeap {
    let scores: UnsafeMutablePointer<Float>
    let rows: UnsafeMutablePointer<Int32>
    let k: Int

    /// `a` ranks below `b` under the tie rule (empty slots rank below everything).
    @inline(__always)
    static func worse(_ sa: Float, _ ra: Int32, _ sb: Float, _ rb: Int32) -> Bool {
        if ra < 0 { return rb >= 0 }
        if rb < 0 { return false }
        return sa < sb || (sa == sb && ra > rb)
    }

    /// Turns a best-first list into a heap: reversed, it is sorted worst first, a valid min-heap.
    func open() {
        var (i, j) = (0, k - 1)
        while i < j {
            swap(i, j)
            i += 1; j -= 1
        }
    }

    /// Sorts the heap back into a best-first list (heap sort: the root is the worst, so it goes last).
    func close() {
        var n = k
        while n > 1 {
            n -= 1
            swap(0, n)
            siftDown(0, count: n)
        }
    }

    /// Offers a candidate; it replaces the root when it beats it. Rejection costs one compare in
    /// the common case (`score < scores[0]`).
    @inline(__always)
    func offer(_ score: Float, _ row: Int32) {
        guard TopKHeap.worse(scores[0], rows[0], score, row) else { return }
        scores[0] = score
        rows[0] = row
        siftDown(0, count: k)
    }

    /// The score a candidate must reach to be considered: the root's (−∞ while slots are empty).
    @inline(__always) var threshold: Float { rows[0] < 0 ? -.infinity : scores[0] }

    private func siftDown(_ start: Int, count n: Int) {
        var i = start
        while true {
            let l = 2 * i + 1
            if l >= n { return }
            var c = l
            if l + 1 < n, TopKHeap.worse(scores[l + 1], rows[l + 1], scores[l], rows[l]) { c = l + 1 }
            guard TopKHeap.worse(scores[c], rows[c], scores[i], rows[i]) else { return }
            swap(i, c)
            i = c
        }
    }

    @inline(__always)
    private func swap(_ a: Int, _ b: Int) {
        let (s, r) = (scores[a], rows[a])
        scores[a] = scores[b]; rows[a] = rows[b]
        scores[b] = s; rows[b] = r
    }
}
