import QuiverOpenCL

/// One set of kernel parameters to try: the device's defaults with one family's parameters
/// replaced.
public struct TuneVariant: Hashable, Sendable {
    public let kernel: TuneKernel
    /// The whole configuration the variant runs with, as given (no fallbacks).
    public internal(set) var config: KernelConfig
    /// Whether this is the device's default for the family (the baseline every speedup is against).
    public let isDefault: Bool
    /// Appended to every program's `-D` options: a test seam to inject a corrupting define.
    package var extraDefines = ""

    public init(kernel: TuneKernel, config: KernelConfig, isDefault: Bool) {
        self.kernel = kernel
        self.config = config
        self.isDefault = isDefault
    }

    /// The family's parameters, by name.
    public var parameters: [String: Int] {
        switch kernel {
        case .gemm:
            let g = config.gemm
            return ["tileM": g.tileM, "tileN": g.tileN, "tileK": g.tileK, "workPerThreadM": g.workPerThreadM,
                    "workPerThreadN": g.workPerThreadN, "vectorWidth": g.vectorWidth]
        case .attention:
            return ["queriesPerGroup": config.attention.queriesPerGroup, "keysPerTile": config.attention.keysPerTile]
        case .topk:
            let t = config.topK
            return ["tileQ": t.tileQ, "tileT": t.tileT, "tileD": t.tileD, "workPerThreadQ": t.workPerThreadQ,
                    "workPerThreadT": t.workPerThreadT, "mergeGroupSize": t.mergeGroupSize, "chunkRows": t.chunkRows]
        }
    }

    /// Short human-readable parameters, e.g. "64×64×32 tile, 8×8/item, 8×8 group".
    public var label: String {
        switch kernel {
        case .gemm:
            let g = config.gemm
            return "\(g.tileM)×\(g.tileN)×\(g.tileK) tile, \(g.workPerThreadM)×\(g.workPerThreadN)/item, "
                + "\(g.localSize[1])×\(g.localSize[0]) group" + (g.vectorWidth > 1 ? ", float\(g.vectorWidth) loads" : "")
        case .attention:
            return "\(config.attention.queriesPerGroup) queries × \(config.attention.keysPerTile) keys/block"
        case .topk:
            let t = config.topK
            return "\(t.tileQ)×\(t.tileT)×\(t.tileD) tile, \(t.workPerThreadQ)×\(t.workPerThreadT)/item, "
                + "merge \(t.mergeGroupSize), chunk \(t.chunkRows)"
        }
    }

    /// The tuned-kernels record that selects this variant's family parameters.
    var tuned: TunedKernels {
        switch kernel {
        case .gemm: TunedKernels(gemm: config.gemm)
        case .attention: TunedKernels(attention: config.attention)
        case .topk: TunedKernels(topK: config.topK)
        }
    }
}

/// The parameter grids, enumerated in a fixed order: the default first, then the grid (nested
/// loops in the order written, duplicates of the default left out). Only structurally malformed
/// combinations (a tile not divisible by the work per item) are left out here; what a device
/// cannot run is tried and recorded as skipped.
public enum TuneSpace {
    /// The variants of `kernel` on a device whose defaults are `defaults`.
    public static func variants(_ kernel: TuneKernel, defaults: KernelConfig, quick: Bool) -> [TuneVariant] {
        var configs: [KernelConfig] = [defaults]
        switch kernel {
        case .gemm:
            configs += gemm(quick: quick).map { var c = defaults; c.gemm = $0; return c }
        case .attention:
            configs += attention(quick: quick).map { var c = defaults; c.attention = $0; return c }
        case .topk:
            configs += topK(quick: quick, defaults: defaults.topK).map { var c = defaults; c.topK = $0; return c }
        }
        var seen = Set<KernelConfig>()
        return configs.enumerated().compactMap { i, c in
            seen.insert(c).inserted ? TuneVariant(kernel: kernel, config: c, isDefault: i == 0) : nil
        }
    }

    /// GEMM tiles (M×N) × K step × work per item (M×N) × vector width of the global loads.
    /// Quick: the GPU-style default (many thin work-items), the CPU-style one (few fat ones), a
    /// taller CPU-style tile and the CPU-style one with float4 loads, so every device tries
    /// alternatives to its default.
    static func gemm(quick: Bool) -> [KernelConfig.GEMM] {
        typealias G = KernelConfig.GEMM
        if quick {
            return [G(tileM: 64, tileN: 64, tileK: 32, workPerThreadM: 8, workPerThreadN: 8),
                    G(tileM: 64, tileN: 64, tileK: 16, workPerThreadM: 4, workPerThreadN: 4),
                    G(tileM: 128, tileN: 64, tileK: 32, workPerThreadM: 8, workPerThreadN: 8),
                    G(tileM: 64, tileN: 64, tileK: 32, workPerThreadM: 8, workPerThreadN: 8, vectorWidth: 4)]
        }
        var out: [G] = []
        for (tm, tn) in [(32, 32), (64, 64), (64, 128), (128, 64), (128, 128)] {
            for tk in [16, 32] {
                for (wm, wn) in [(2, 2), (4, 4), (4, 8), (8, 4), (8, 8)] where tm % wm == 0 && tn % wn == 0 {
                    for vw in [1, 2, 4] {
                        let g = G(tileM: tm, tileN: tn, tileK: tk, workPerThreadM: wm, workPerThreadN: wn, vectorWidth: vw)
                        // Past 1024 work-items no GPU runs it and CPUs only loop longer: not worth a build.
                        if g.workGroupSize <= 1024 { out.append(g) }
                    }
                }
            }
        }
        return out
    }

    /// Attention: queries per work-group × keys per local-memory tile.
    static func attention(quick: Bool) -> [KernelConfig.Attention] {
        typealias A = KernelConfig.Attention
        if quick { return [A(queriesPerGroup: 32, keysPerTile: 16), A(queriesPerGroup: 128, keysPerTile: 32)] }
        return [16, 32, 64, 128].flatMap { q in [8, 16, 32, 64].map { A(queriesPerGroup: q, keysPerTile: $0) } }
    }

    /// Top-k: score_filter tiles (queries × rows × dimensions) and work per item with the default
    /// merge group and chunk, then merge group × chunk rows with the default filter tiles. The tuner
    /// also tries the best filter with the best merge/chunk (see `Tuner`).
    static func topK(quick: Bool, defaults d: KernelConfig.TopK) -> [KernelConfig.TopK] {
        func filter(_ q: Int, _ t: Int, _ dd: Int, _ wq: Int, _ wt: Int) -> KernelConfig.TopK {
            var c = d
            (c.tileQ, c.tileT, c.tileD, c.workPerThreadQ, c.workPerThreadT) = (q, t, dd, wq, wt)
            return c
        }
        func merge(_ group: Int, _ chunk: Int) -> KernelConfig.TopK {
            var c = d
            (c.mergeGroupSize, c.chunkRows) = (group, chunk)
            return c
        }
        // Quick: the GPU-style and the CPU-style default filter tiles (one alternative to the
        // default: the filter and the merge are the slowest kernels to compile on PoCL).
        if quick { return [filter(64, 64, 32, 8, 8), filter(64, 64, 16, 4, 4)] }
        var out: [KernelConfig.TopK] = []
        for (q, t) in [(32, 64), (32, 128), (64, 64), (64, 128)] {
            for dd in [16, 32] {
                for (wq, wt) in [(4, 4), (4, 8), (8, 4), (8, 8)] where q % wq == 0 && t % wt == 0 {
                    out.append(filter(q, t, dd, wq, wt))
                }
            }
        }
        // Merge groups stay ≤ 512 so k + group ≤ 2048 holds for every k ≤ 1024.
        for group in [64, 128, 256, 512] {
            for chunk in [4096, 8192, 16384] { out.append(merge(group, chunk)) }
        }
        return out
    }
}
