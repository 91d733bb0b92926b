/// Elementwise activation functions, applied on their own or fused into a GEMM epilogue.
public enum Activation: String, Sendable, CaseIterable {
    case identity
    case relu
    /// GELU, exact form: x · ½(1 + erf(x/√2)) (Hugging Face `gelu`).
    case gelu
    /// GELU, tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (Hugging Face `gelu_new`).
    case geluTanh = "gelu_tanh"
    case sigmoid
    case tanh
}

/// How token embeddings `[B, S, H]` become one vector per sequence.
public enum PoolingMode: String, Sendable, CaseIterable {
    /// Mean over positions whose mask is nonzero (sentence-transformers: sum / max(count, 1e-9)).
    case mean
    /// The first position (the `[CLS]` token).
    case cls
}

/// What a backend runs on.
public struct DeviceInfo: Sendable, Equatable {
    public enum Kind: String, Sendable { case cpu, gpu, accelerator, other }

    /// Backend name: "cpu" or "opencl".
    public var backend: String
    public var name: String
    public var kind: Kind
    public var computeUnits: Int
    /// Device memory in bytes (host RAM for the CPU backend).
    public var globalMemoryBytes: UInt64
    /// Largest single buffer in bytes; bigger tensors are split across several buffers.
    public var maxAllocationBytes: UInt64
    /// Extra facts shown by `quiver devices` (driver, OpenCL C version, OpenBLAS core type, …).
    public var details: [(String, String)]

    public init(backend: String, name: String, kind: Kind, computeUnits: Int, globalMemoryBytes: UInt64,
                maxAllocationBytes: UInt64, details: [(String, String)] = []) {
        self.backend = backend
        self.name = name
        self.kind = kind
        self.computeUnits = computeUnits
        self.globalMemoryBytes = globalMemoryBytes
        self.maxAllocationBytes = maxAllocationBytes
        self.details = details
    }

    public static func == (a: DeviceInfo, b: DeviceInfo) -> Bool {
        a.backend == b.backend && a.name == b.name && a.kind == b.kind && a.computeUnits == b.computeUnits
            && a.globalMemoryBytes == b.globalMemoryBytes && a.maxAllocationBytes == b.maxAllocationBytes
            && a.details.map(\.0) == b.details.map(\.0) && a.details.map(\.1) == b.details.map(\.1)
    }
}

/// A tensor that lives where a backend computes (host memory for CPU, device buffers for OpenCL).
/// Only the backend that created it can use it.
public protocol DeviceTensor: AnyObject, Sendable {
    var shape: Shape { get }
    var dtype: DType { get }
}

/// The seam between the models/scorer and the hardware. Ops are coarse enough that data stays on
/// the device between them; every op has the same meaning on every backend.
///
/// Conventions for all ops:
/// - Tensors are row-major; "rows" means all axes but the last, flattened.
/// - Outputs are preallocated by the caller (`buffer`) and fully overwritten.
/// - Elementwise and row-wise ops (`add`, `activate`, `layerNorm`, `softmax`, `l2Normalize`) allow
///   the output to be the same tensor as the first input; `gemm`, `attention` and `pool` do not.
/// - Shape or dtype errors throw `QuiverError` naming the op and the shapes, before any work.
/// - Ops may run asynchronously; `download` and `synchronize` wait for them.
public protocol ComputeBackend: AnyObject, Sendable {
    var device: DeviceInfo { get }

    /// A new zero-filled tensor on this backend.
    func buffer(_ shape: Shape, _ dtype: DType) throws -> DeviceTensor
    /// A new tensor whose contents are unspecified, for an op's output or an upload, which
    /// overwrite it completely; skips the zero fill. The default is `buffer`.
    func uninitializedBuffer(_ shape: Shape, _ dtype: DType) throws -> DeviceTensor
    /// Copies `host` into `tensor` (same shape and dtype).
    func upload(_ host: Tensor, to tensor: DeviceTensor) throws
    /// Copies `tensor` back to the host.
    func download(_ tensor: DeviceTensor) throws -> Tensor

    /// `c = activation(a · op(b) + bias)`, all f32.
    /// - a: `[..., K]` (leading axes flattened to M rows)
    /// - b: `[K, N]`, or `[N, K]` when `transposeB` (then `op(b) = bᵀ`)
    /// - bias: `[N]` or nil; c: `[..., N]` with M rows. Cost O(M·N·K).
    func gemm(_ a: DeviceTensor, _ b: DeviceTensor, transposeB: Bool, bias: DeviceTensor?,
              activation: Activation, into c: DeviceTensor) throws

    /// `out = a + b`, elementwise, same shapes (the residual connection).
    func add(_ a: DeviceTensor, _ b: DeviceTensor, into out: DeviceTensor) throws

    /// `out = activation(x)`, elementwise, f32.
    func activate(_ x: DeviceTensor, _ activation: Activation, into out: DeviceTensor) throws

    /// `out = LayerNorm(x + residual) · gamma + beta` over the last axis H, with biased variance
    /// and `epsilon` inside the square root (PyTorch `nn.LayerNorm`). x, residual, out: `[..., H]`;
    /// gamma, beta: `[H]`. `residual` nil means plain LayerNorm.
    func layerNorm(_ x: DeviceTensor, residual: DeviceTensor?, gamma: DeviceTensor, beta: DeviceTensor,
                   epsilon: Float, into out: DeviceTensor) throws

    /// Softmax over the last axis N of `x: [B, ..., N]`. `mask: [B, N]` (i32, nonzero = keep) is
    /// broadcast over the middle axes; masked positions get probability 0. A row with no kept
    /// position (or only -inf logits) becomes all zeros, never NaN.
    func softmax(_ x: DeviceTensor, mask: DeviceTensor?, into out: DeviceTensor) throws

    /// Multi-head scaled-dot-product attention with a key padding mask.
    /// - query, key, value: `[B, S, heads·D]`; mask: `[B, S]` i32 (nonzero = real token)
    /// - out: `[B, S, heads·D]`, `out[b,s,h] = Σ_t softmax_t(q·k_t · scale) v_t` over kept t;
    ///   scale defaults to 1/√D. A sequence with no kept key gives zeros.
    /// Memory is O(B·S·heads·D): the S×S score matrix is never stored.
    func attention(query: DeviceTensor, key: DeviceTensor, value: DeviceTensor, mask: DeviceTensor,
                   heads: Int, scale: Float?, into out: DeviceTensor) throws

    /// Pools `x: [B, S, H]` with `mask: [B, S]` (i32) into `out: [B, H]`.
    func pool(_ x: DeviceTensor, mask: DeviceTensor, mode: PoolingMode, into out: DeviceTensor) throws

    /// Each row of `x: [..., H]` divided by max(‖row‖₂, 1e-12) (PyTorch `F.normalize`).
    func l2Normalize(_ x: DeviceTensor, into out: DeviceTensor) throws

    /// Element type conversion between f32 and f16 (round to nearest even), or a copy when the
    /// dtypes match. Same shape.
    func convert(_ x: DeviceTensor, into out: DeviceTensor) throws

    /// Scores a catalog tile against every query and merges the tile into each query's running
    /// exact top-k (the scorer's inner step; see `TopKLists` for the list layout).
    /// - queries: `[Q, D]` f32
    /// - tile: `[T, D]` f32, f16 or i8; its row `t` is catalog row `firstRow + t`
    /// - rowScale, rowBias: `[T]` f32 or nil (1 and 0):
    ///   `score(q, t) = (queries[q] · tile[t]) · rowScale[t] + rowBias[t]`
    ///   (cosine: rowScale = 1/‖row‖; L2: rowScale = 2, rowBias = −‖row‖²; int8: rowScale = the
    ///   row's quantization scale)
    /// - exclusions: catalog rows a query must never get, or nil
    /// - top: in/out; after the call each list holds the k best of (its old entries ∪ the tile).
    /// k ≤ `TopKLists.maxK`. Cost O(Q·T·D); the Q×T score matrix is never stored whole.
    func similarityTopK(queries: DeviceTensor, tile: DeviceTensor, rowScale: DeviceTensor?, rowBias: DeviceTensor?,
                        firstRow: Int, exclusions: RowExclusions?, top: TopKLists) throws

    /// `similarityTopK` for shortlists that an exact rescoring will correct: the backend may
    /// compute the dot products in reduced precision (CPU: bf16 inputs, f32 sums), each within
    /// `approximateScoreError · ‖q‖ · ‖tile[t]‖` of the exact `queries[q] · tile[t]` (before
    /// rowScale/rowBias apply). Same arguments and list semantics otherwise.
    func approximateSimilarityTopK(queries: DeviceTensor, tile: DeviceTensor, rowScale: DeviceTensor?, rowBias: DeviceTensor?,
                                   firstRow: Int, exclusions: RowExclusions?, top: TopKLists) throws

    /// The relative error bound of `approximateSimilarityTopK` for `dimension`-long vectors
    /// (0 for a backend whose approximate op is the exact one).
    func approximateScoreError(dimension: Int) -> Float

    /// A tensor that shares `host`'s memory when this backend computes in host memory (CPU), so a
    /// memory-mapped catalog tile is used in place; nil when the backend needs an `upload`.
    /// The caller keeps `host`'s storage alive and unchanged while the view is in use.
    func view(_ host: Tensor) -> DeviceTensor?

    /// Waits until all enqueued work has finished.
    func synchronize() throws
}

/// Running exact top-k lists, one per query, kept on the backend between catalog tiles.
///
/// - scores: `[Q, k]` f32, rows: `[Q, k]` i32 (catalog rows). Each list is sorted best first by
///   the tie rule: higher score first, then lower row. Empty slots have row −1 and score −∞ and
///   sort after every real entry.
public struct TopKLists: Sendable {
    /// Largest k the backends support (OpenCL merges lists in local memory).
    public static let maxK = 1024

    public let scores: DeviceTensor
    public let rows: DeviceTensor

    public init(scores: DeviceTensor, rows: DeviceTensor) {
        self.scores = scores
        self.rows = rows
    }

    public var queries: Int { scores.shape.dims.first ?? 0 }
    public var k: Int { scores.shape.last }

    /// Empty lists for `queries` queries on `backend`.
    public static func empty(queries: Int, k: Int, on backend: ComputeBackend) throws -> TopKLists {
        guard k >= 1, k <= maxK else {
            throw QuiverError.invalidArgument("top-k: k = \(k) is out of range; Quiver supports 1 ... \(maxK)")
        }
        let shape = Shape([queries, k])
        let scores = try backend.tensor(try Tensor(shape: shape, floats: .init(repeating: -.infinity, count: shape.count)))
        let rows = try backend.tensor(try Tensor(shape: shape, int32s: .init(repeating: -1, count: shape.count)))
        return TopKLists(scores: scores, rows: rows)
    }
}

/// Per-query catalog rows to leave out of the top-k, in CSR layout:
/// query q's rows are `rows[offsets[q] ..< offsets[q + 1]]`, ascending, no duplicates.
/// - offsets: `[Q + 1]` i32; rows: `[max(E, 1)]` i32 (one unused slot when nothing is excluded).
public struct RowExclusions: Sendable {
    public let offsets: DeviceTensor
    public let rows: DeviceTensor

    public init(offsets: DeviceTensor, rows: DeviceTensor) {
        self.offsets = offsets
        self.rows = rows
    }

    /// Uploads per-query row lists (each is sorted and deduplicated here).
    public static func make(_ lists: [[Int32]], on backend: ComputeBackend) throws -> RowExclusions {
        var offsets: [Int32] = [0], rows: [Int32] = []
        for list in lists {
            rows += Array(Set(list)).sorted()
            offsets.append(Int32(rows.count))
        }
        if rows.isEmpty { rows = [-1] }
        return RowExclusions(
            offsets: try backend.tensor(try Tensor(shape: Shape([offsets.count]), int32s: offsets)),
            rows: try backend.tensor(try Tensor(shape: Shape([rows.count]), int32s: rows)))
    }
}

extension ComputeBackend {
    /// Default: the exact op.
    public func approximateSimilarityTopK(queries: DeviceTensor, tile: DeviceTensor, rowScale: DeviceTensor?, rowBias: DeviceTensor?,
                                          firstRow: Int, exclusions: RowExclusions?, top: TopKLists) throws {
        try similarityTopK(queries: queries, tile: tile, rowScale: rowScale, rowBias: rowBias, firstRow: firstRow,
                           exclusions: exclusions, top: top)
    }

    /// Default: exact, so only the f32 accumulation's rounding (D · 2⁻²⁴).
    public func approximateScoreError(dimension: Int) -> Float { Float(dimension) * 0x1p-24 }
}

extension ComputeBackend {
    public func uninitializedBuffer(_ shape: Shape, _ dtype: DType) throws -> DeviceTensor {
        try buffer(shape, dtype)
    }

    /// A new tensor holding a copy of `host`.
    public func tensor(_ host: Tensor) throws -> DeviceTensor {
        let t = try uninitializedBuffer(host.shape, host.dtype)
        try upload(host, to: t)
        return t
    }
}
