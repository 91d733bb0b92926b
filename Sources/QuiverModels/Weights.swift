import QuiverCore

/// Reads named weights from a safetensors file, checks their shapes, and uploads them to a
/// backend. Keys are tried as given and with each of `prefixes` (Hugging Face checkpoints of a
/// `BertModel` have bare keys, those of a `BertFor…` head model start with `bert.`).
struct Weights {
    let file: SafeTensors
    let backend: any ComputeBackend
    var prefixes: [String] = [""]

    /// The entry for `key`, trying each prefix; throws naming the key and the file when absent.
    func entry(_ key: String) throws -> SafeTensors.Entry {
        for prefix in prefixes {
            if let e = file.entry(prefix + key) { return e }
        }
        let tried = prefixes.map { "'\($0 + key)'" }.joined(separator: " or ")
        throw QuiverError.io(path: file.path, detail: "missing tensor \(tried) (the file has \(file.entries.count) tensors)")
    }

    /// The entry for `key`, which must have shape `shape`.
    func entry(_ key: String, shape: [Int]) throws -> SafeTensors.Entry {
        let e = try entry(key)
        guard e.shape.dims == shape else {
            throw QuiverError.io(path: file.path, detail: "tensor '\(e.name)' has shape \(e.shape), expected \(Shape(shape))")
        }
        return e
    }

    /// `key` (shape-checked) as an f32 tensor on the backend.
    func upload(_ key: String, shape: [Int]) throws -> DeviceTensor {
        let e = try entry(key, shape: shape)
        return try backend.tensor(file.floatTensor(e.name))
    }
}

/// A `Linear` layer as PyTorch stores it: `weight [out, in]`, `bias [out]`; applied as
/// `y = activation(x · weightᵀ + bias)` with the activation fused into the GEMM epilogue.
struct Linear {
    let weight: DeviceTensor
    let bias: DeviceTensor
    let inFeatures: Int
    let outFeatures: Int

    static func load(_ weights: Weights, _ prefix: String, in inFeatures: Int, out outFeatures: Int) throws -> Linear {
        Linear(weight: try weights.upload(prefix + ".weight", shape: [outFeatures, inFeatures]),
               bias: try weights.upload(prefix + ".bias", shape: [outFeatures]),
               inFeatures: inFeatures, outFeatures: outFeatures)
    }

    func forward(_ x: DeviceTensor, activation: Activation = .identity, into out: DeviceTensor,
                 on backend: any ComputeBackend) throws {
        try backend.gemm(x, weight, transposeB: true, bias: bias, activation: activation, into: out)
    }
}

/// `nn.LayerNorm`: `weight` (γ) and `bias` (β) of shape `[hidden]`.
struct LayerNorm {
    let gamma: DeviceTensor
    let beta: DeviceTensor
    let epsilon: Float

    static func load(_ weights: Weights, _ prefix: String, hidden: Int, epsilon: Float) throws -> LayerNorm {
        LayerNorm(gamma: try weights.upload(prefix + ".weight", shape: [hidden]),
                  beta: try weights.upload(prefix + ".bias", shape: [hidden]), epsilon: epsilon)
    }

    /// `out = LayerNorm(x + residual)`; `out` may be `x`.
    func forward(_ x: DeviceTensor, residual: DeviceTensor?, into out: DeviceTensor, on backend: any ComputeBackend) throws {
        try backend.layerNorm(x, residual: residual, gamma: gamma, beta: beta, epsilon: epsilon, into: out)
    }
}
