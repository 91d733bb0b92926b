import QuiverCore
import QuiverOpenCL

/// Self-attention over `[batch, sequence, heads·headDim]` with a padding mask: q, k, v uniform in
/// [-1, 1], each sequence keeping a random prefix of at least half its tokens (padded rows as in
/// a real batch). Checked against the reference backend: max |Δ| / max |out| ≤ 1e-4.
final class AttentionTuneCase: TuneCase {
    let shape: TuneShape
    private let device: OpenCLBackend
    private let q, k, v, mask, out: DeviceTensor
    private let heads, headDim: Int
    private let expected: [Float]

    init(batch: Int, sequence: Int, heads: Int, headDim: Int, device: OpenCLBackend, reference: any ComputeBackend, seed: UInt64) throws {
        shape = .attention(batch: batch, sequence: sequence, heads: heads, headDim: headDim)
        self.device = device
        self.heads = heads
        self.headDim = headDim
        var rng = BenchRandom(seed: seed)
        let dims: Shape = [batch, sequence, heads * headDim]
        let hosts = try (0..<3).map { _ in try Tensor(shape: dims, floats: TuneCases.uniform(dims.count, &rng)) }
        var maskValues = [Int32](repeating: 0, count: batch * sequence)
        for row in 0..<batch {
            let kept = sequence - Int(rng.unit() * Double(sequence / 2))
            for t in 0..<kept { maskValues[row * sequence + t] = 1 }
        }
        let hostMask = try Tensor(shape: [batch, sequence], int32s: maskValues)
        q = try device.tensor(hosts[0])
        k = try device.tensor(hosts[1])
        v = try device.tensor(hosts[2])
        mask = try device.tensor(hostMask)
        out = try device.buffer(dims, .f32)
        let ro = try reference.buffer(dims, .f32)
        try reference.attention(query: try reference.tensor(hosts[0]), key: try reference.tensor(hosts[1]),
                                value: try reference.tensor(hosts[2]), mask: try reference.tensor(hostMask),
                                heads: heads, scale: nil, into: ro)
        expected = try reference.download(ro).floats()
    }

    func preflight(_ config: KernelConfig, device: OpenCLDevice) -> String? {
        TuneCases.limits(groupSize: config.attention.queriesPerGroup,
                         localBytes: config.attention.localMemoryBytes(headDim: headDim), device: device)
    }

    func run(on backend: OpenCLBackend) throws {
        try backend.attention(query: q, key: k, value: v, mask: mask, heads: heads, scale: nil, into: out)
    }

    func check() throws -> TuneCheck {
        let got = try device.download(out).floats()
        return TuneCheck(error: TuneCases.relativeToMax(got, expected), tolerance: 1e-4, measure: "max |Δ| / max |out|")
    }
}
