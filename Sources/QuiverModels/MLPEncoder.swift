import Foundation
import QuiverCore

/// A stack of dense layers (`y = act(x·Wᵀ + b)`, PyTorch `nn.Linear` layout) with an optional
/// final L2 normalization, described by a JSON manifest next to a safetensors file. See QuiverModels.docc/MLP.md
/// for the manifest format and how to export from PyTorch and Keras.
public final class MLPEncoder: Sendable {
    public struct Manifest: Decodable, Sendable {
        public struct Layer: Decodable, Sendable {
            public var weight: String
            public var bias: String?
            public var activation: String?
        }
        public var format: String
        public var version: Int
        public var weights: String
        public var layers: [Layer]
        public var normalize: Bool?
    }

    public let backend: any ComputeBackend
    public let inputDimension: Int
    public let outputDimension: Int
    public let normalize: Bool
    let layers: [(linear: DenseLayer, activation: Activation)]

    struct DenseLayer {
        let weight: DeviceTensor   // [out, in]
        let bias: DeviceTensor?    // [out]
        let outFeatures: Int
    }

    init(backend: any ComputeBackend, inputDimension: Int, normalize: Bool, layers: [(linear: DenseLayer, activation: Activation)]) {
        self.backend = backend
        self.inputDimension = inputDimension
        self.outputDimension = layers.last?.linear.outFeatures ?? inputDimension
        self.normalize = normalize
        self.layers = layers
    }

    /// Loads the manifest at `manifestPath` and the safetensors file it names (relative to the
    /// manifest's directory), checking that each layer's input width equals the previous output.
    public static func load(manifestPath: String, backend: any ComputeBackend) throws -> MLPEncoder {
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            throw QuiverError.io(path: manifestPath, detail: "cannot read the MLP manifest")
        }
        let m: Manifest
        do { m = try JSONDecoder().decode(Manifest.self, from: data) } catch {
            throw QuiverError.io(path: manifestPath, detail: "bad MLP manifest: \(error)")
        }
        guard m.format == "quiver-mlp", m.version == 1 else {
            throw QuiverError.io(path: manifestPath, detail: "format \"\(m.format)\" version \(m.version) is not supported; expected \"quiver-mlp\" version 1")
        }
        guard !m.layers.isEmpty else { throw QuiverError.io(path: manifestPath, detail: "the manifest lists no layers") }
        let dir = URL(fileURLWithPath: manifestPath).deletingLastPathComponent()
        let file = try SafeTensors(path: dir.appendingPathComponent(m.weights).path)
        var layers: [(linear: DenseLayer, activation: Activation)] = []
        var inputDimension = 0, previous = 0
        for (i, layer) in m.layers.enumerated() {
            let name = layer.activation ?? "identity"
            guard let act = Activation(rawValue: name) else {
                throw QuiverError.io(path: manifestPath, detail: "layer \(i): activation \"\(name)\" is not one of \(Activation.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let w = try file.require(layer.weight)
            guard w.shape.rank == 2 else {
                throw QuiverError.io(path: file.path, detail: "layer \(i): weight '\(layer.weight)' has shape \(w.shape), expected [out, in]")
            }
            let (out, inp) = (w.shape[0], w.shape[1])
            if i == 0 { inputDimension = inp } else if inp != previous {
                throw QuiverError.io(path: file.path, detail: "layer \(i): weight '\(layer.weight)' has shape \(w.shape) (in = \(inp)), but layer \(i - 1) outputs \(previous); expected [\(out), \(previous)]")
            }
            var bias: DeviceTensor?
            if let b = layer.bias {
                let e = try file.require(b)
                guard e.shape.dims == [out] else {
                    throw QuiverError.io(path: file.path, detail: "layer \(i): bias '\(b)' has shape \(e.shape), expected [\(out)]")
                }
                bias = try backend.tensor(file.floatTensor(b))
            }
            layers.append((DenseLayer(weight: try backend.tensor(file.floatTensor(layer.weight)), bias: bias, outFeatures: out), act))
            previous = out
        }
        return MLPEncoder(backend: backend, inputDimension: inputDimension, normalize: m.normalize ?? false, layers: layers)
    }

    /// Encodes `rows` feature rows (`rows × inputDimension` floats, row-major) into
    /// `rows × outputDimension` floats. Cost O(rows · Σ in·out).
    public func embed(features: [Float], rows: Int) throws -> [Float] {
        guard rows > 0, features.count == rows * inputDimension else {
            throw QuiverError.shapeMismatch(op: "MLPEncoder.embed", detail: "\(features.count) features are not \(rows) rows of \(inputDimension) (rows must be positive)")
        }
        var x = try backend.tensor(Tensor(shape: [rows, inputDimension], floats: features))
        for (layer, act) in layers {
            let y = try backend.buffer([rows, layer.outFeatures], .f32)
            try backend.gemm(x, layer.weight, transposeB: true, bias: layer.bias, activation: act, into: y)
            x = y
        }
        if normalize { try backend.l2Normalize(x, into: x) }
        return try backend.download(x).floats()
    }
}
