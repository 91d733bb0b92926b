import QuiverCore
import QuiverOpenCL
import QuiverTestSupport
import Testing

/// Every op on tensors split over several device buffers (maximum allocation lowered to 4 KB,
/// i.e. 1024 floats), compared with the float64 reference and with the unsplit backend.
@Suite struct SplitTests {
    func backends() throws -> (split: OpenCLBackend, whole: OpenCLBackend)? {
        guard let split = try TestDevice.splittingBackend(), let whole = try TestDevice.backend() else { return nil }
        #expect(split.device.maxAllocationBytes == 4096)
        return (split, whole)
    }

    /// Runs `body` on both backends and checks they agree with each other and with `want`.
    func compare(_ what: String, _ want: [Double], atol: Double = 1e-4, rtol: Double = 1e-4,
                 _ be: (split: OpenCLBackend, whole: OpenCLBackend), _ body: (OpenCLBackend) throws -> [Float]) throws {
        let s = try body(be.split), w = try body(be.whole)
        expectClose(s, want, atol: atol, rtol: rtol, "\(what) (split)")
        expectClose(s, w.map(Double.init), atol: atol, rtol: rtol, "\(what) (split vs unsplit)")
    }

    @Test func tensorsSplitAlongTheFirstAxis() throws {
        guard let be = try backends() else { return }
        let t = try #require(try be.split.buffer([40, 50], .f32) as? OpenCLTensor)  // 20 rows (4000 B) per buffer
        #expect(t.bufferCount == 2)
        let values = (0..<2000).map(Float.init)
        try be.split.upload(try Tensor(shape: [40, 50], floats: values), to: t)
        #expect(try be.split.values(t) == values)
        #expect(throws: QuiverError.self) { _ = try be.split.buffer([2, 2000], .f32) }   // one slice > 4 KB
    }

    @Test(arguments: [false, true])
    func gemmWithSplitOperands(transposeB: Bool) throws {
        guard let be = try backends() else { return }
        var rng = SeededRandom(seed: 40)
        // a: 40×50 (2 chunks of 20 rows), c: 40×30 (chunks of 34 rows) → row pieces 0-20-34-40.
        // b: [50, 30] → K blocks of 34 + 16 (accumulate, epilogue last);
        //    [30, 50] (transposeB) → column blocks of 20 + 10.
        let (m, n, k) = (40, 30, 50)
        let a = rng.floats(m * k), b = rng.floats(k * n), bias = rng.floats(n)
        for act in [Activation.gelu, .identity] {
            let want = Reference.gemm(a.doubles, b.doubles, m: m, n: n, k: k, transposeB: transposeB, bias: bias.doubles,
                                      activation: act.rawValue)
            try compare("gemm transB=\(transposeB) \(act)", want, be) { be in
                let c = try be.buffer([m, n], .f32)
                let tb = try be.f32(transposeB ? [n, k] : [k, n], b)
                if be.device.maxAllocationBytes == 4096 { #expect((tb as? OpenCLTensor)?.bufferCount == 2) }
                try be.gemm(try be.f32([m, k], a), tb, transposeB: transposeB, bias: try be.f32([n], bias),
                            activation: act, into: c)
                return try be.values(c)
            }
        }
    }

    @Test func gemmWithRank3ActivationsAndSplitB() throws {
        guard let be = try backends() else { return }
        var rng = SeededRandom(seed: 41)
        let (bsz, s, k, n) = (4, 10, 50, 45)   // a [4,10,50]: 2 slices per chunk; b [50,45]: K blocks 22+22+6
        let a = rng.floats(bsz * s * k), b = rng.floats(k * n)
        let want = Reference.gemm(a.doubles, b.doubles, m: bsz * s, n: n, k: k, transposeB: false, bias: nil, activation: "relu")
        try compare("gemm rank-3", want, be) { be in
            let c = try be.buffer([bsz, s, n], .f32)
            try be.gemm(try be.f32([bsz, s, k], a), try be.f32([k, n], b), transposeB: false, bias: nil,
                        activation: .relu, into: c)
            return try be.values(c)
        }
    }

    @Test func softmaxWithSplitInputAndMask() throws {
        guard let be = try backends() else { return }
        var rng = SeededRandom(seed: 42)
        // x [20, 2, 60]: 8 batch entries per chunk; mask [20, 60] i32: 17 rows per chunk.
        let (b, r, n) = (20, 2, 60)
        let x = rng.floats(b * r * n, in: -5...5)
        var mask = (0..<(b * n)).map { _ in Int32.random(in: 0...1, using: &rng) }
        for j in 0..<n { mask[17 * n + j] = 0 }
        let want = Reference.softmax(x.doubles, mask: mask, b: b, r: r, n: n)
        try compare("softmax", want, atol: 1e-6, be) { be in
            let tx = try be.f32([b, r, n], x), tm = try be.i32([b, n], mask)
            try be.softmax(tx, mask: tm, into: tx)
            return try be.values(tx)
        }
    }

    @Test func attentionWithSplitBatches() throws {
        guard let be = try backends() else { return }
        var rng = SeededRandom(seed: 43)
        // [5, 9, 64] (heads 2, D 32): 576 floats per batch entry → one entry per chunk.
        let (b, s, heads, d) = (5, 9, 2, 32)
        let count = b * s * heads * d
        let q = rng.floats(count), k = rng.floats(count), v = rng.floats(count)
        var mask = [Int32](repeating: 1, count: b * s)
        for t in 5..<s { mask[2 * s + t] = 0 }
        let want = Reference.attention(q: q.doubles, k: k.doubles, v: v.doubles, mask: mask, b: b, s: s, heads: heads, d: d,
                                       scale: 1 / Double(d).squareRoot())
        try compare("attention", want, atol: 2e-5, be) { be in
            let shape: Shape = [b, s, heads * d]
            let out = try be.buffer(shape, .f32)
            try be.attention(query: try be.f32(shape, q), key: try be.f32(shape, k), value: try be.f32(shape, v),
                             mask: try be.i32([b, s], mask), heads: heads, scale: nil, into: out)
            return try be.values(out)
        }
    }

    @Test(arguments: PoolingMode.allCases)
    func poolWithSplitInput(mode: PoolingMode) throws {
        guard let be = try backends() else { return }
        var rng = SeededRandom(seed: 44)
        // x [7, 9, 40]: 2 entries per chunk; mask [7, 9] in one buffer; out [7, 40] in one.
        let (b, s, h) = (7, 9, 40)
        let x = rng.floats(b * s * h)
        let mask = (0..<(b * s)).map { _ in Int32.random(in: 0...1, using: &rng) }
        let want = Reference.pool(x.doubles, mask: mask, b: b, s: s, h: h, mode: mode.rawValue)
        try compare("pool \(mode)", want, atol: 1e-6, be) { be in
            let out = try be.buffer([b, h], .f32)
            try be.pool(try be.f32([b, s, h], x), mask: try be.i32([b, s], mask), mode: mode, into: out)
            return try be.values(out)
        }
    }

    @Test func rowAndElementwiseOpsOnSplitTensors() throws {
        guard let be = try backends() else { return }
        var rng = SeededRandom(seed: 45)
        let (rows, h) = (50, 33)   // 31 rows per chunk
        let x = rng.floats(rows * h), r = rng.floats(rows * h), g = rng.floats(h), bt = rng.floats(h)
        let norm = Reference.layerNorm(x.doubles, residual: r.doubles, gamma: g.doubles, beta: bt.doubles, epsilon: 1e-5, h: h)
        try compare("layerNorm", norm, be) { be in
            let out = try be.buffer([rows, h], .f32)
            try be.layerNorm(try be.f32([rows, h], x), residual: try be.f32([rows, h], r), gamma: try be.f32([h], g),
                             beta: try be.f32([h], bt), epsilon: 1e-5, into: out)
            return try be.values(out)
        }
        try compare("l2Normalize", Reference.l2Normalize(x.doubles, h: h), atol: 1e-6, be) { be in
            let out = try be.buffer([rows, h], .f32)
            try be.l2Normalize(try be.f32([rows, h], x), into: out)
            return try be.values(out)
        }
        try compare("add + gelu", zip(x, r).map { Reference.activate(Double($0) + Double($1), "gelu") }, atol: 1e-6, be) { be in
            let out = try be.buffer([rows, h], .f32)
            try be.add(try be.f32([rows, h], x), try be.f32([rows, h], r), into: out)
            try be.activate(out, .gelu, into: out)
            return try be.values(out)
        }
        // f32 [3000] is split into 1024-element chunks, f16 [3000] into 2048-element chunks.
        let values = rng.floats(3000, in: -100...100)
        try compare("f16 round trip", values.map { Double(Float(Float16($0))) }, atol: 0, rtol: 0, be) { be in
            let half = try be.buffer([3000], .f16), back = try be.buffer([3000], .f32)
            try be.convert(try be.f32([3000], values), into: half)
            try be.convert(half, into: back)
            return try be.values(back)
        }
    }
}
