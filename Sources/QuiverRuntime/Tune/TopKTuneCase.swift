import QuiverCore
import QuiverOpenCL

/// Exact top-k (inner product) of `queries` against one catalog tile of `items` rows, the lists
/// reset to empty before every run (a query block's first tile). Queries and rows are uniform in
/// [-1, 1]. The check is robust to float near-ties (two rows whose scores differ by less than the
/// rounding may swap or trade the last place):
/// - every returned row is a real, distinct catalog row;
/// - its returned score equals its float64 score, and the i-th returned score equals the
///   reference's i-th score, each within 1e-4 · Σ_d |q_d · row_d|.
/// The error is the largest such difference in units of that magnitude (tolerance 1e-4).
final class TopKTuneCase: TuneCase {
    let shape: TuneShape
    private let device: OpenCLBackend
    private let queries, tile: DeviceTensor
    private let top: TopKLists
    private let hostQueries, hostTile: [Float]
    private let nq, nt, d, k: Int
    private let expectedScores: [Float]
    private let expectedRows: [Int32]

    init(queries: Int, items: Int, dimension: Int, k: Int, device: OpenCLBackend, reference: any ComputeBackend, seed: UInt64) throws {
        shape = .topK(queries: queries, items: items, dimension: dimension, k: k)
        self.device = device
        (nq, nt, d, self.k) = (queries, items, dimension, k)
        var rng = BenchRandom(seed: seed)
        hostQueries = TuneCases.uniform(queries * dimension, &rng)
        hostTile = TuneCases.uniform(items * dimension, &rng)
        let q = try Tensor(shape: [queries, dimension], floats: hostQueries)
        let t = try Tensor(shape: [items, dimension], floats: hostTile)
        self.queries = try device.tensor(q)
        tile = try device.tensor(t)
        top = try TopKLists.empty(queries: queries, k: k, on: device)
        let refTop = try TopKLists.empty(queries: queries, k: k, on: reference)
        try reference.similarityTopK(queries: try reference.tensor(q), tile: reference.view(t) ?? reference.tensor(t), rowScale: nil,
                                     rowBias: nil, firstRow: 0, exclusions: nil, top: refTop)
        expectedScores = try reference.download(refTop.scores).floats()
        expectedRows = try reference.download(refTop.rows).int32s()
    }

    func preflight(_ config: KernelConfig, device: OpenCLDevice) -> String? {
        let t = config.topK
        if k + t.mergeGroupSize > 2048 { return "k + merge group \(k + t.mergeGroupSize) > the merge's 2048-entry sort" }
        if t.mergeGroupSize > device.maxWorkGroupSize {
            return "merge group of \(t.mergeGroupSize) work-items > CL_DEVICE_MAX_WORK_GROUP_SIZE \(device.maxWorkGroupSize)"
        }
        return TuneCases.limits(groupSize: t.workGroupSize, localBytes: t.localMemoryBytes, device: device)
    }

    func reset() throws {
        let count = nq * k
        try device.upload(try Tensor(shape: [nq, k], floats: .init(repeating: -.infinity, count: count)), to: top.scores)
        try device.upload(try Tensor(shape: [nq, k], int32s: .init(repeating: -1, count: count)), to: top.rows)
    }

    func run(on backend: OpenCLBackend) throws {
        try backend.similarityTopK(queries: queries, tile: tile, rowScale: nil, rowBias: nil, firstRow: 0, exclusions: nil, top: top)
    }

    func check() throws -> TuneCheck {
        let scores = try device.download(top.scores).floats()
        let rows = try device.download(top.rows).int32s()
        let listed = min(k, nt)
        var worst = 0.0
        for qi in 0..<nq {
            var seen = Set<Int32>()
            for i in 0..<k {
                let (s, r) = (scores[qi * k + i], rows[qi * k + i])
                if i >= listed {   // fewer rows than k: the tail stays empty
                    if r != -1 { return fail() }
                    continue
                }
                guard r >= 0, Int(r) < nt, seen.insert(r).inserted, s.isFinite else { return fail() }
                let (exact, magnitude) = dot(qi, Int(r))
                let refRow = Int(expectedRows[qi * k + i])
                let refMagnitude = refRow >= 0 && refRow < nt ? dot(qi, refRow).1 : 0
                let scale = max(magnitude, refMagnitude, 1e-30)
                worst = max(worst, abs(Double(s) - exact) / scale, abs(Double(s) - Double(expectedScores[qi * k + i])) / scale)
            }
        }
        return TuneCheck(error: worst, tolerance: 1e-4, measure: "max |Δscore| / Σ|q·row|")
    }

    private func fail() -> TuneCheck {
        TuneCheck(error: .infinity, tolerance: 1e-4, measure: "rows must be distinct catalog rows")
    }

    /// (q · row, Σ |q_d · row_d|) in float64.
    private func dot(_ qi: Int, _ row: Int) -> (Double, Double) {
        var sum = 0.0, magnitude = 0.0
        for j in 0..<d {
            let p = Double(hostQueries[qi * d + j]) * Double(hostTile[row * d + j])
            sum += p
            magnitude += abs(p)
        }
        return (sum, magnitude)
    }
}
