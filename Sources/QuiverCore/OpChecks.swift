/// Shape and dtype validation shared by every backend, so each op rejects bad input the same way
/// (and with the same message) whatever it runs on.
public enum OpChecks {
    /// Sizes of a validated GEMM: `c[M,N] = a[M,K] · op(b)`.
    public struct GEMMSizes: Equatable, Sendable { public var m, n, k: Int }

    public static func dtype(_ op: String, _ name: String, _ t: DeviceTensor, _ allowed: DType...) throws {
        guard allowed.contains(t.dtype) else {
            throw QuiverError.unsupportedDType(op: op, operand: name, dtype: t.dtype, expected: allowed)
        }
    }

    public static func sameShape(_ op: String, _ names: [String], _ tensors: [DeviceTensor]) throws {
        for (name, t) in zip(names.dropFirst(), tensors.dropFirst()) where t.shape != tensors[0].shape {
            throw QuiverError.shapeMismatch(
                op: op, detail: "\(names[0]) is \(tensors[0].shape) but \(name) is \(t.shape); they must be equal")
        }
    }

    public static func notEmpty(_ op: String, _ name: String, _ t: DeviceTensor) throws {
        guard t.shape.rank >= 1 else {
            throw QuiverError.shapeMismatch(op: op, detail: "\(name) is a scalar \(t.shape); it needs at least one axis")
        }
    }

    public static func gemm(_ a: DeviceTensor, _ b: DeviceTensor, transposeB: Bool, bias: DeviceTensor?,
                            c: DeviceTensor) throws -> GEMMSizes {
        let op = "gemm"
        try dtype(op, "a", a, .f32); try dtype(op, "b", b, .f32); try dtype(op, "c", c, .f32)
        guard a.shape.rank >= 1, b.shape.rank == 2 else {
            throw QuiverError.shapeMismatch(op: op, detail: "a is \(a.shape) and b is \(b.shape); b must be 2-D and a at least 1-D")
        }
        let k = a.shape.last
        let (bk, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard bk == k else {
            let layout = transposeB ? "[N, K] (transposeB)" : "[K, N]"
            throw QuiverError.shapeMismatch(
                op: op, detail: "a is \(a.shape) (K = \(k)) but b is \(b.shape), read as \(layout) with K = \(bk)")
        }
        let m = a.shape.rows
        guard c.shape.last == n, c.shape.rows == m, c.shape.rank >= 1 else {
            throw QuiverError.shapeMismatch(
                op: op, detail: "a \(a.shape) · b \(b.shape) gives \(m) rows × \(n) columns, but c is \(c.shape)")
        }
        if let bias {
            try dtype(op, "bias", bias, .f32)
            guard bias.shape == Shape([n]) else {
                throw QuiverError.shapeMismatch(op: op, detail: "bias is \(bias.shape), expected [\(n)] to match c \(c.shape)")
            }
        }
        return GEMMSizes(m: m, n: n, k: k)
    }

    public static func elementwise(_ op: String, inputs: [(String, DeviceTensor)], out: DeviceTensor) throws {
        for (name, t) in inputs { try dtype(op, name, t, .f32) }
        try dtype(op, "out", out, .f32)
        try sameShape(op, inputs.map(\.0) + ["out"], inputs.map(\.1) + [out])
    }

    public static func layerNorm(_ x: DeviceTensor, residual: DeviceTensor?, gamma: DeviceTensor, beta: DeviceTensor,
                                 epsilon: Float, out: DeviceTensor) throws {
        let op = "layerNorm"
        var inputs = [("x", x)]
        if let residual { inputs.append(("residual", residual)) }
        try elementwise(op, inputs: inputs, out: out)
        try notEmpty(op, "x", x)
        try dtype(op, "gamma", gamma, .f32); try dtype(op, "beta", beta, .f32)
        let h = x.shape.last
        guard gamma.shape == Shape([h]), beta.shape == Shape([h]) else {
            throw QuiverError.shapeMismatch(
                op: op, detail: "gamma is \(gamma.shape) and beta is \(beta.shape); both must be [\(h)] for x \(x.shape)")
        }
        guard epsilon >= 0, epsilon.isFinite else { throw QuiverError.invalidArgument("layerNorm: epsilon must be a finite value ≥ 0, got \(epsilon)") }
    }

    /// Returns (B, rows per batch entry, N).
    public static func softmax(_ x: DeviceTensor, mask: DeviceTensor?, out: DeviceTensor) throws -> (b: Int, r: Int, n: Int) {
        let op = "softmax"
        try elementwise(op, inputs: [("x", x)], out: out)
        try notEmpty(op, "x", x)
        let n = x.shape.last
        let b = x.shape.rank >= 2 ? x.shape[0] : 1
        if let mask {
            try dtype(op, "mask", mask, .i32)
            guard x.shape.rank >= 2, mask.shape == Shape([b, n]) else {
                throw QuiverError.shapeMismatch(op: op, detail: "mask is \(mask.shape) but x is \(x.shape); the mask must be [B, N] = [\(b), \(n)] for x [B, ..., N]")
            }
        }
        return (b, b == 0 || n == 0 ? 0 : x.shape.count / (b * n), n)
    }

    /// Returns (B, S, heads, D).
    public static func attention(query: DeviceTensor, key: DeviceTensor, value: DeviceTensor, mask: DeviceTensor,
                                 heads: Int, out: DeviceTensor) throws -> (b: Int, s: Int, heads: Int, d: Int) {
        let op = "attention"
        try elementwise(op, inputs: [("query", query), ("key", key), ("value", value)], out: out)
        try dtype(op, "mask", mask, .i32)
        guard query.shape.rank == 3 else {
            throw QuiverError.shapeMismatch(op: op, detail: "query is \(query.shape); expected [B, S, heads·D]")
        }
        let (b, s, hidden) = (query.shape[0], query.shape[1], query.shape[2])
        guard heads >= 1, hidden % heads == 0 else {
            throw QuiverError.invalidArgument("attention: hidden size \(hidden) of query \(query.shape) is not divisible by heads = \(heads)")
        }
        guard mask.shape == Shape([b, s]) else {
            throw QuiverError.shapeMismatch(op: op, detail: "mask is \(mask.shape) but query is \(query.shape); the mask must be [B, S] = [\(b), \(s)]")
        }
        return (b, s, heads, hidden / heads)
    }

    /// Returns (B, S, H).
    public static func pool(_ x: DeviceTensor, mask: DeviceTensor, out: DeviceTensor) throws -> (b: Int, s: Int, h: Int) {
        let op = "pool"
        try dtype(op, "x", x, .f32); try dtype(op, "out", out, .f32); try dtype(op, "mask", mask, .i32)
        guard x.shape.rank == 3 else { throw QuiverError.shapeMismatch(op: op, detail: "x is \(x.shape); expected [B, S, H]") }
        let (b, s, h) = (x.shape[0], x.shape[1], x.shape[2])
        guard mask.shape == Shape([b, s]) else {
            throw QuiverError.shapeMismatch(op: op, detail: "mask is \(mask.shape) but x is \(x.shape); the mask must be [B, S] = [\(b), \(s)]")
        }
        guard out.shape == Shape([b, h]) else {
            throw QuiverError.shapeMismatch(op: op, detail: "out is \(out.shape) but x is \(x.shape); out must be [B, H] = [\(b), \(h)]")
        }
        return (b, s, h)
    }

    public static func convert(_ x: DeviceTensor, out: DeviceTensor) throws {
        let op = "convert"
        try dtype(op, "x", x, .f32, .f16); try dtype(op, "out", out, .f32, .f16)
        try sameShape(op, ["x", "out"], [x, out])
    }

    /// Sizes of a validated `similarityTopK`: Q queries, T tile rows, D dimensions, k per list.
    public struct TopKSizes: Equatable, Sendable { public var q, t, d, k: Int }

    public static func similarityTopK(queries: DeviceTensor, tile: DeviceTensor, rowScale: DeviceTensor?,
                                      rowBias: DeviceTensor?, firstRow: Int, exclusions: RowExclusions?,
                                      top: TopKLists) throws -> TopKSizes {
        let op = "similarityTopK"
        try dtype(op, "queries", queries, .f32); try dtype(op, "tile", tile, .f32, .f16, .i8)
        try dtype(op, "top.scores", top.scores, .f32); try dtype(op, "top.rows", top.rows, .i32)
        guard queries.shape.rank == 2, tile.shape.rank == 2, queries.shape[1] == tile.shape[1] else {
            throw QuiverError.shapeMismatch(
                op: op, detail: "queries are \(queries.shape) and the tile is \(tile.shape); expected [Q, D] and [T, D] with the same D")
        }
        let (q, t, d) = (queries.shape[0], tile.shape[0], tile.shape[1])
        guard top.scores.shape.rank == 2, top.scores.shape == top.rows.shape, top.scores.shape[0] == q else {
            throw QuiverError.shapeMismatch(
                op: op, detail: "top lists are \(top.scores.shape) scores and \(top.rows.shape) rows; both must be [Q, k] with Q = \(q)")
        }
        let k = top.k
        guard k >= 1, k <= TopKLists.maxK else {
            throw QuiverError.invalidArgument("\(op): k = \(k) is out of range; Quiver supports 1 ... \(TopKLists.maxK)")
        }
        for (name, v) in [("rowScale", rowScale), ("rowBias", rowBias)] {
            guard let v else { continue }
            try dtype(op, name, v, .f32)
            guard v.shape == Shape([t]) else {
                throw QuiverError.shapeMismatch(op: op, detail: "\(name) is \(v.shape); expected [\(t)] for a tile of \(t) rows")
            }
        }
        guard firstRow >= 0, firstRow + t <= Int(Int32.max) else {
            throw QuiverError.invalidArgument("\(op): catalog rows \(firstRow) ..< \(firstRow + t) do not fit 0 ... \(Int32.max)")
        }
        if let exclusions {
            try dtype(op, "exclusions.offsets", exclusions.offsets, .i32); try dtype(op, "exclusions.rows", exclusions.rows, .i32)
            guard exclusions.offsets.shape == Shape([q + 1]), exclusions.rows.shape.rank == 1 else {
                throw QuiverError.shapeMismatch(
                    op: op, detail: "exclusion offsets are \(exclusions.offsets.shape) and rows \(exclusions.rows.shape); expected [\(q + 1)] and [E]")
            }
        }
        return TopKSizes(q: q, t: t, d: d, k: k)
    }

    public static func transfer(_ op: String, host: Tensor, device: DeviceTensor) throws {
        guard host.shape == device.shape, host.dtype == device.dtype else {
            throw QuiverError.shapeMismatch(
                op: op, detail: "host tensor is \(host.shape) \(host.dtype) but device tensor is \(device.shape) \(device.dtype)")
        }
    }
}
