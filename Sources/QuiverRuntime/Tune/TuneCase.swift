import QuiverCore
import QuiverOpenCL

/// The verdict on one variant's output: `error` and `tolerance` in the same (case-specific,
/// unitless) measure.
public struct TuneCheck: Sendable {
    public var error: Double
    public var tolerance: Double
    /// What was compared, e.g. "max |Δ| / max |reference|".
    public var measure: String
    public var passed: Bool { error <= tolerance }
}

/// One shape's inputs on the device and its reference answer: the tuner resets, runs and
/// checks it once per variant. Inputs live on the tuned backend's context, so every variant
/// backend (`OpenCLBackend.variant`) reads the same buffers without a re-upload.
protocol TuneCase: AnyObject {
    var shape: TuneShape { get }
    /// Why `config` cannot run on `device` (work-group size, local memory), known before building; nil if it may.
    func preflight(_ config: KernelConfig, device: OpenCLDevice) -> String?
    /// Restores state the op updates in place (untimed).
    func reset() throws
    /// Enqueues the op on `backend`; the caller synchronizes.
    func run(on backend: OpenCLBackend) throws
    /// Compares the output of the last run with the reference.
    func check() throws -> TuneCheck
}

extension TuneCase {
    func reset() throws {}
}

enum TuneCases {
    /// The case for `shape`, inputs drawn from a generator seeded by `seed` (same seed, same data).
    static func make(_ shape: TuneShape, device: OpenCLBackend, reference: any ComputeBackend, seed: UInt64) throws -> any TuneCase {
        switch shape {
        case let .gemm(m, n, k, activation):
            guard let act = Activation(rawValue: activation) else {
                throw QuiverError.invalidArgument("tune: unknown activation '\(activation)'")
            }
            return try GEMMTuneCase(m: m, n: n, k: k, activation: act, device: device, reference: reference, seed: seed)
        case let .attention(b, s, h, d):
            return try AttentionTuneCase(batch: b, sequence: s, heads: h, headDim: d, device: device, reference: reference, seed: seed)
        case let .topK(q, t, d, k):
            return try TopKTuneCase(queries: q, items: t, dimension: d, k: k, device: device, reference: reference, seed: seed)
        }
    }

    /// `count` uniform floats in [-scale, scale].
    static func uniform(_ count: Int, scale: Float = 1, _ rng: inout BenchRandom) -> [Float] {
        (0..<count).map { _ in Float(rng.unit() * 2 - 1) * scale }
    }

    /// max |got − want| / max(max |want|, 1e-30), NaN → ∞.
    static func relativeToMax(_ got: [Float], _ want: [Float]) -> Double {
        guard got.count == want.count else { return .infinity }
        let scale = max(want.reduce(0.0) { max($0, abs(Double($1))) }, 1e-30)
        var worst = 0.0
        for (g, w) in zip(got, want) {
            let d = abs(Double(g) - Double(w))
            if !d.isFinite { return .infinity }
            worst = max(worst, d)
        }
        return worst / scale
    }

    /// Work-group and local-memory limits shared by the preflights.
    static func limits(groupSize: Int, localBytes: Int, device: OpenCLDevice) -> String? {
        if groupSize > device.maxWorkGroupSize {
            return "work-group of \(groupSize) work-items > CL_DEVICE_MAX_WORK_GROUP_SIZE \(device.maxWorkGroupSize)"
        }
        if UInt64(localBytes) > device.localMemoryBytes {
            return "\(localBytes) bytes of local memory > CL_DEVICE_LOCAL_MEM_SIZE \(device.localMemoryBytes)"
        }
        return nil
    }
}

/// `C[m, n] = act(A[m, k] · Bᵀ + bias)` with B `[n, k]`: a `Linear` layer on m tokens. A and the
/// bias are uniform in [-1, 1], B in ±1/√k (activations stay O(1) like a trained layer's).
/// Checked against the reference backend: max |Δ| / max |C| ≤ 1e-4.
final class GEMMTuneCase: TuneCase {
    let shape: TuneShape
    private let device: OpenCLBackend
    private let a, b, bias, c: DeviceTensor
    private let activation: Activation
    private let expected: [Float]

    init(m: Int, n: Int, k: Int, activation: Activation, device: OpenCLBackend, reference: any ComputeBackend, seed: UInt64) throws {
        shape = .gemm(m: m, n: n, k: k, activation: activation.rawValue)
        self.device = device
        self.activation = activation
        var rng = BenchRandom(seed: seed)
        let hostA = try Tensor(shape: [m, k], floats: TuneCases.uniform(m * k, &rng))
        let hostB = try Tensor(shape: [n, k], floats: TuneCases.uniform(n * k, scale: 1 / Float(k).squareRoot(), &rng))
        let hostBias = try Tensor(shape: [n], floats: TuneCases.uniform(n, &rng))
        a = try device.tensor(hostA)
        b = try device.tensor(hostB)
        bias = try device.tensor(hostBias)
        c = try device.buffer([m, n], .f32)
        let rc = try reference.buffer([m, n], .f32)
        try reference.gemm(try reference.tensor(hostA), try reference.tensor(hostB), transposeB: true,
                           bias: try reference.tensor(hostBias), activation: activation, into: rc)
        expected = try reference.download(rc).floats()
    }

    func preflight(_ config: KernelConfig, device: OpenCLDevice) -> String? {
        TuneCases.limits(groupSize: config.gemm.workGroupSize, localBytes: config.gemm.localMemoryBytes, device: device)
    }

    func run(on backend: OpenCLBackend) throws {
        try backend.gemm(a, b, transposeB: true, bias: bias, activation: activation, into: c)
    }

    func check() throws -> TuneCheck {
        let got = try device.download(c).floats()
        return TuneCheck(error: TuneCases.relativeToMax(got, expected), tolerance: 1e-4, measure: "max |Δ| / max |C|")
    }
}
