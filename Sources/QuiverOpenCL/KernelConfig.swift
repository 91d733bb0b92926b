import QuiverCore

/// The `-D` choices of every kernel family, so an autotuner can override the defaults.
/// `OpenCLBackend.Options.kernels` nil means `KernelConfig.defaults(for:)`.
public struct KernelConfig: Hashable, Sendable, Codable {
    /// gemm.cl: a work-group computes a `tileM × tileN` block of C with
    /// `(tileN / workPerThreadN) × (tileM / workPerThreadM)` work-items, each holding a
    /// `workPerThreadM × workPerThreadN` micro-tile in registers; K advances `tileK` at a time
    /// through local memory (`4·tileK·(tileM + tileN + 2)` bytes). Global loads move `vectorWidth`
    /// (1, 2 or 4) consecutive floats per work-item and step (`tileK` and `tileN` multiples of it).
    public struct GEMM: Hashable, Sendable, Codable {
        public var tileM: Int, tileN: Int, tileK: Int
        public var workPerThreadM: Int, workPerThreadN: Int
        public var vectorWidth: Int

        public init(tileM: Int = 64, tileN: Int = 64, tileK: Int = 16, workPerThreadM: Int = 4, workPerThreadN: Int = 4,
                    vectorWidth: Int = 1) {
            self.tileM = tileM; self.tileN = tileN; self.tileK = tileK
            self.workPerThreadM = workPerThreadM; self.workPerThreadN = workPerThreadN
            self.vectorWidth = vectorWidth
        }

        private enum CodingKeys: String, CodingKey { case tileM, tileN, tileK, workPerThreadM, workPerThreadN, vectorWidth }

        /// Tuning caches written before `vectorWidth` existed decode with width 1 (what they timed).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(tileM: try c.decode(Int.self, forKey: .tileM), tileN: try c.decode(Int.self, forKey: .tileN),
                      tileK: try c.decode(Int.self, forKey: .tileK), workPerThreadM: try c.decode(Int.self, forKey: .workPerThreadM),
                      workPerThreadN: try c.decode(Int.self, forKey: .workPerThreadN),
                      vectorWidth: try c.decodeIfPresent(Int.self, forKey: .vectorWidth) ?? 1)
        }

        /// Work-group shape (dimension 0 along N, dimension 1 along M).
        public var localSize: [Int] { [tileN / workPerThreadN, tileM / workPerThreadM] }
        public var workGroupSize: Int { localSize[0] * localSize[1] }
        public var localMemoryBytes: Int { 4 * tileK * (tileM + tileN + 2) }
        var defines: String {
            "-D TS_M=\(tileM) -D TS_N=\(tileN) -D TS_K=\(tileK) -D WPT_M=\(workPerThreadM) -D WPT_N=\(workPerThreadN) -D VW=\(vectorWidth)"
        }

        package func validate() throws {
            guard [tileM, tileN, tileK, workPerThreadM, workPerThreadN].allSatisfy({ $0 >= 1 }),
                  tileM % workPerThreadM == 0, tileN % workPerThreadN == 0
            else {
                throw QuiverError.invalidArgument(
                    "KernelConfig.GEMM: tiles \(tileM)×\(tileN)×\(tileK) must be positive and divisible by the "
                        + "work per thread \(workPerThreadM)×\(workPerThreadN)")
            }
            guard [1, 2, 4].contains(vectorWidth), tileK % vectorWidth == 0, tileN % vectorWidth == 0 else {
                throw QuiverError.invalidArgument(
                    "KernelConfig.GEMM: vector width \(vectorWidth) must be 1, 2 or 4 and divide tileK \(tileK) and tileN \(tileN)")
            }
        }
    }

    /// elementwise.cl: 1-D work-groups of `workGroupSize`, grid-stride loops.
    public struct Elementwise: Hashable, Sendable, Codable {
        public var workGroupSize: Int
        public init(workGroupSize: Int = 256) { self.workGroupSize = workGroupSize }
    }

    /// rowwise.cl: one work-group of `workGroupSize` (a power of two) per row, tree reduction in
    /// local memory (`4·workGroupSize` bytes).
    public struct Rowwise: Hashable, Sendable, Codable {
        public var workGroupSize: Int
        public init(workGroupSize: Int = 256) { self.workGroupSize = workGroupSize }
        var defines: String { "-D WG=\(workGroupSize)" }
    }

    /// attention.cl: a work-group of `queriesPerGroup` work-items (one query each) of one
    /// (batch, head); keys/values stream through local memory `keysPerTile` at a time.
    /// Local memory: `4·(max(queriesPerGroup·(D+1), 2·keysPerTile·D) + keysPerTile)` bytes.
    public struct Attention: Hashable, Sendable, Codable {
        public var queriesPerGroup: Int
        public var keysPerTile: Int
        public init(queriesPerGroup: Int = 64, keysPerTile: Int = 32) {
            self.queriesPerGroup = queriesPerGroup
            self.keysPerTile = keysPerTile
        }
        /// Local memory the kernel needs for head size `d`, bytes.
        public func localMemoryBytes(headDim d: Int) -> Int {
            4 * (max(queriesPerGroup * (d + 1), 2 * keysPerTile * d) + keysPerTile)
        }
        func defines(headDim d: Int) -> String {
            "-D HEAD_DIM=\(d) -D BLOCK_Q=\(queriesPerGroup) -D BLOCK_K=\(keysPerTile)"
        }
    }

    /// topk.cl: `score_filter` scores a `tileQ × tileT` block (queries × catalog rows) per
    /// work-group like the GEMM (`tileD` dimensions at a time through local memory, a
    /// `workPerThreadQ × workPerThreadT` micro-tile per work-item; `workPerThreadT` ≤ 32) and keeps
    /// only scores that beat each query's k-th; `topk_merge` merges them into each list with
    /// `mergeGroupSize` work-items (a power of two ≤ 1024) and a 2048-entry local sort (16 KB).
    /// A call scores at most `chunkRows` catalog rows per launch pair and keeps at most
    /// `candidateBytes` of candidate slots (8 bytes per query and chunk row; more queries are
    /// processed in blocks). Filter local memory: `4·tileD·(tileQ + tileT + 2) + 8·tileQ` bytes.
    public struct TopK: Hashable, Sendable, Codable {
        public var tileQ: Int, tileT: Int, tileD: Int
        public var workPerThreadQ: Int, workPerThreadT: Int
        public var mergeGroupSize: Int
        public var chunkRows: Int
        public var candidateBytes: Int

        public init(tileQ: Int = 64, tileT: Int = 64, tileD: Int = 16, workPerThreadQ: Int = 4, workPerThreadT: Int = 4,
                    mergeGroupSize: Int = 256, chunkRows: Int = 8192, candidateBytes: Int = 64 << 20) {
            self.tileQ = tileQ; self.tileT = tileT; self.tileD = tileD
            self.workPerThreadQ = workPerThreadQ; self.workPerThreadT = workPerThreadT
            self.mergeGroupSize = mergeGroupSize
            self.chunkRows = chunkRows
            self.candidateBytes = candidateBytes
        }

        /// `score_filter` work-group shape (dimension 0 along catalog rows, dimension 1 along queries).
        public var localSize: [Int] { [tileT / workPerThreadT, tileQ / workPerThreadQ] }
        public var workGroupSize: Int { localSize[0] * localSize[1] }
        public var localMemoryBytes: Int { 4 * tileD * (tileQ + tileT + 2) + 8 * tileQ }
        var filterDefines: String {
            "-D TS_Q=\(tileQ) -D TS_T=\(tileT) -D TS_D=\(tileD) -D WPT_Q=\(workPerThreadQ) -D WPT_T=\(workPerThreadT)"
        }
        var mergeDefines: String { "-D MERGE_WG=\(mergeGroupSize)" }

        /// Smaller filter tiles, tried in order when a device (or a compiled kernel) cannot run
        /// the preferred ones.
        static let fallbacks = [TopK(tileQ: 32, tileT: 32, tileD: 16, workPerThreadQ: 4, workPerThreadT: 4),
                                TopK(tileQ: 16, tileT: 16, tileD: 8, workPerThreadQ: 2, workPerThreadT: 2),
                                TopK(tileQ: 8, tileT: 8, tileD: 8, workPerThreadQ: 2, workPerThreadT: 2)]

        package func validate() throws {
            guard [tileQ, tileT, tileD, workPerThreadQ, workPerThreadT, chunkRows, candidateBytes].allSatisfy({ $0 >= 1 }),
                  tileQ % workPerThreadQ == 0, tileT % workPerThreadT == 0, workPerThreadT <= 32,
                  mergeGroupSize >= 1, mergeGroupSize <= 1024, mergeGroupSize & (mergeGroupSize - 1) == 0
            else {
                throw QuiverError.invalidArgument(
                    "KernelConfig.TopK: tiles \(tileQ)×\(tileT)×\(tileD) must be positive and divisible by the work per "
                        + "thread \(workPerThreadQ)×\(workPerThreadT) (≤ 32 rows), mergeGroupSize \(mergeGroupSize) a power of "
                        + "two ≤ 1024, chunkRows and candidateBytes positive")
            }
        }
    }

    public var gemm: GEMM
    public var elementwise: Elementwise
    public var rowwise: Rowwise
    public var attention: Attention
    public var topK: TopK

    public init(gemm: GEMM = .init(), elementwise: Elementwise = .init(), rowwise: Rowwise = .init(),
                attention: Attention = .init(), topK: TopK = .init()) {
        self.gemm = gemm
        self.elementwise = elementwise
        self.rowwise = rowwise
        self.attention = attention
        self.topK = topK
    }

    /// Defaults for `device`, shrunk when its work-group or local-memory limits are lower:
    /// - GPUs (and other non-CPU devices): 64×64×16 GEMM tiles with 4×4 per work-item (256
    ///   work-items, ~8.3 KB local memory: fits NVIDIA's 48 KB with room for several groups per
    ///   SM), 256-wide row reductions, 64 queries × 32 keys attention blocks.
    /// - CPUs (PoCL): 64×64×32 tiles with 8×8 per work-item (64 work-items) and 64-wide rows.
    ///   PoCL runs a work-group as loops over its work-items, so fewer, fatter work-items win
    ///   (measured ~2× on GEMM, ~2× on layerNorm/softmax against the GPU defaults).
    /// - Top-k: the GEMM's tile shapes for `score_filter` (64×64×16, 4×4 on GPUs; 64×64×32, 8×8 on
    ///   CPUs), merge groups of 256 (GPUs) or 64 (CPUs), 8192-row chunks, 64 MB of candidate slots.
    public static func defaults(for device: OpenCLDevice) -> KernelConfig {
        var c = KernelConfig()
        let maxWG = max(device.maxWorkGroupSize, 1)
        let local = Int(min(device.localMemoryBytes, UInt64(Int.max)))
        let cpu = device.type == .cpu
        let preferred = cpu ? GEMM(tileM: 64, tileN: 64, tileK: 32, workPerThreadM: 8, workPerThreadN: 8) : GEMM()
        let gemmCandidates = [preferred, GEMM(tileM: 32, tileN: 32, tileK: 16, workPerThreadM: 4, workPerThreadN: 4),
                              GEMM(tileM: 16, tileN: 16, tileK: 8, workPerThreadM: 2, workPerThreadN: 2),
                              GEMM(tileM: 8, tileN: 8, tileK: 8, workPerThreadM: 2, workPerThreadN: 2)]
        c.gemm = gemmCandidates.first { $0.workGroupSize <= maxWG && $0.localMemoryBytes <= local } ?? gemmCandidates[3]
        c.elementwise.workGroupSize = min(256, floorPowerOfTwo(maxWG))
        c.rowwise.workGroupSize = min(cpu ? 64 : 256, floorPowerOfTwo(maxWG))
        c.attention.queriesPerGroup = min(64, floorPowerOfTwo(maxWG))
        let topKPreferred = cpu ? TopK(tileQ: 64, tileT: 64, tileD: 32, workPerThreadQ: 8, workPerThreadT: 8, mergeGroupSize: 64)
                                : TopK()
        c.topK = ([topKPreferred] + TopK.fallbacks).first { $0.workGroupSize <= maxWG && $0.localMemoryBytes <= local }
            ?? TopK.fallbacks[TopK.fallbacks.count - 1]
        c.topK.mergeGroupSize = min(topKPreferred.mergeGroupSize, floorPowerOfTwo(maxWG))
        return c
    }

    static func floorPowerOfTwo(_ n: Int) -> Int {
        var p = 1
        while p * 2 <= n { p *= 2 }
        return p
    }
}
