import CScoreKernels
import Dispatch
import Testing

/// qsk_bf16_scores against a float64 reference on the bf16-rounded inputs. Skipped on CPUs
/// without AVX512_BF16 (the kernel then returns -2, checked separately).
@Suite(.enabled(if: qsk_bf16_supported() != 0, "needs AVX512_BF16"))
struct ScoresTests {
    /// Packs random queries and items, runs the kernel into an output wider than N (ldOut = N + 3)
    /// filled with a sentinel, and returns what it wrote plus the reference.
    struct Run {
        var out: [Float]
        var reference: [Double]
        var magnitude: [Double]  // Σ_d |q_d · x_d| per output: the scale of f32 rounding error
        var (q, n, d, ld): (Int, Int, Int, Int)
    }

    static let sentinel: Float = -12345

    static func run(kind: String, q: Int, n: Int, d: Int, seed: UInt64) -> Run {
        var rng = SeededRandom(seed: seed)
        let queries = (0..<(q * d)).map { _ in Float.random(in: -1...1, using: &rng) }
        let rows = ItemRows.random(kind, n: n, d: d, using: &rng)
        let packedQueries = PackedBuffer(byteCount: qsk_queries_packed_bytes(Int32(q), Int32(d)))
        let packedItems = PackedBuffer(byteCount: qsk_items_packed_bytes(Int32(n), Int32(d)))
        #expect(qsk_pack_queries(queries, Int32(q), Int32(d), Int32(d), packedQueries.base) == 0)
        #expect(rows.pack(first: 0, n: n, d: d, into: packedItems.base) == 0)
        let ld = n + 3
        var out = [Float](repeating: sentinel, count: q * ld)
        let rc = qsk_bf16_scores(packedQueries.base, Int32(q), packedItems.base, Int32(n), Int32(d), &out, Int32(ld))
        #expect(rc == 0)

        var reference = [Double](repeating: 0, count: q * n), magnitude = reference
        for a in 0..<q {
            for b in 0..<n {
                for c in 0..<d {
                    let term = bf16Reference(queries[a * d + c]) * rows.rounded(b * d + c)
                    reference[a * n + b] += term
                    magnitude[a * n + b] += abs(term)
                }
            }
        }
        return Run(out: out, reference: reference, magnitude: magnitude, q: q, n: n, d: d, ld: ld)
    }

    /// Sizes around the 64-item × 6-query register tile: remainders in Q, N (panels and lanes) and D.
    static let sizes: [(Int, Int, Int)] = [
        (1, 1, 1), (6, 64, 2), (7, 65, 3), (13, 37, 33), (5, 200, 384), (12, 130, 97), (25, 16, 8), (3, 79, 1),
    ]

    @Test(arguments: ["f32", "f16", "i8"], sizes)
    func matchesFloat64Reference(kind: String, size: (Int, Int, Int)) {
        let (q, n, d) = size
        let r = Self.run(kind: kind, q: q, n: n, d: d, seed: UInt64(q * 1_000_003 + n * 1009 + d))
        // f32 accumulation of d exact bf16 products: each addition rounds once (relative 2^-24).
        let bound = Double(d + 1) * 0x1p-24
        var worst = 0.0, untouched = true
        for a in 0..<q {
            for b in 0..<r.ld {
                let got = r.out[a * r.ld + b]
                if b >= n { untouched = untouched && got == Self.sentinel; continue }
                let error = abs(Double(got) - r.reference[a * n + b]) / max(r.magnitude[a * n + b], .leastNormalMagnitude)
                worst = max(worst, error)
            }
        }
        #expect(worst <= bound, "\(kind) Q=\(q) N=\(n) D=\(d): normalized error \(worst) > \(bound)")
        #expect(untouched, "columns past N (up to ldOut) must not be written")
    }

    /// Two threads scoring disjoint halves of the items (split at a panel boundary, each packing
    /// its own rows into its panels' offset) give the same bits as one call over all of them.
    @Test func concurrentHalvesMatchOneCall() {
        let (q, n, d) = (9, 100, 50)
        var rng = SeededRandom(seed: 7)
        let queries = (0..<(q * d)).map { _ in Float.random(in: -1...1, using: &rng) }
        let items = (0..<(n * d)).map { _ in Float.random(in: -1...1, using: &rng) }
        let pq = PackedBuffer(byteCount: qsk_queries_packed_bytes(Int32(q), Int32(d)))
        #expect(qsk_pack_queries(queries, Int32(q), Int32(d), Int32(d), pq.base) == 0)

        let whole = PackedBuffer(byteCount: qsk_items_packed_bytes(Int32(n), Int32(d)))
        #expect(qsk_pack_items_f32(items, Int32(n), Int32(d), Int32(d), whole.base) == 0)
        var expected = [Float](repeating: 0, count: q * n)
        #expect(qsk_bf16_scores(pq.base, Int32(q), whole.base, Int32(n), Int32(d), &expected, Int32(n)) == 0)

        let split = 48  // a multiple of 16
        let panelBytes = qsk_items_packed_bytes(16, Int32(d))
        let halves = PackedBuffer(byteCount: qsk_items_packed_bytes(Int32(n), Int32(d)))
        let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: q * n)
        defer { out.deallocate() }
        let codes = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 4)
        defer { codes.deallocate() }
        nonisolated(unsafe) let (o, c, h, qp) = (out, codes, halves.base, pq.base)
        items.withUnsafeBufferPointer { x in
            nonisolated(unsafe) let x = x
            DispatchQueue.concurrentPerform(iterations: 2) { t in
                let (first, count) = t == 0 ? (0, split) : (split, n - split)
                let panel = h + (first / 16) * panelBytes
                c[2 * t] = qsk_pack_items_f32(x.baseAddress! + first * d, Int32(count), Int32(d), Int32(d), panel)
                c[2 * t + 1] = qsk_bf16_scores(qp, Int32(q), panel, Int32(count), Int32(d), o.baseAddress! + first, Int32(n))
            }
        }
        #expect(Array(codes) == [0, 0, 0, 0])
        #expect(Array(out) == expected)
    }

    @Test func invalidArgumentsAreRejected() {
        let buffer = PackedBuffer(byteCount: 4096)
        var out = [Float](repeating: 0, count: 64)
        #expect(qsk_bf16_scores(buffer.base, 1, buffer.base, 8, 4, &out, 7) == -1, "ldOut < N")
        #expect(qsk_bf16_scores(buffer.base, -1, buffer.base, 8, 4, &out, 8) == -1, "negative Q")
        #expect(qsk_bf16_scores(buffer.base, 1, buffer.base, 8, 0, &out, 8) == -1, "D = 0")
        #expect(qsk_bf16_scores(nil, 1, buffer.base, 8, 4, &out, 8) == -1, "NULL queries")
        #expect(qsk_bf16_scores(nil, 0, nil, 0, 4, nil, 0) == 0, "empty product")
    }
}

@Test func unsupportedCPUReportsMinusTwo() {
    // Where the CPU has AVX512_BF16 this checks the kernel runs; elsewhere that it declines.
    let buffer = PackedBuffer(byteCount: 4096)
    var out = [Float](repeating: 0, count: 16)
    let rc = qsk_bf16_scores(buffer.base, 1, buffer.base, 16, 2, &out, 16)
    #expect(rc == (qsk_bf16_supported() != 0 ? 0 : -2))
}
