import Foundation
import Testing
import QuiverCore
import QuiverModels
import QuiverTestSupport

/// The quiver-mlp fixture (32 → 64 relu → 16 tanh → L2 normalize, PyTorch weight layout) against a
/// float64 numpy forward pass, and the manifest's shape and activation checks.
@Suite struct MLPEncoderTests {
    @Test(arguments: TestBackends.names)
    func matchesNumpy(backendName: String) throws {
        guard let backend = try TestBackends.backend(backendName) else { return }
        let mlp = try MLPEncoder.load(manifestPath: ModelFixtures.fixtures.appendingPathComponent("mlp/manifest.json").path, backend: backend)
        let fixture = try ModelFixtures.mlpExpected()
        #expect(mlp.inputDimension == 32 && mlp.outputDimension == 16 && mlp.normalize)
        let got = try mlp.embed(features: fixture.features, rows: fixture.rows)
        #expect(got.count == fixture.rows * fixture.output_columns)
        let error = Compare.maxAbsoluteError(got, fixture.expected)
        #expect(error <= 1e-5, "max |Δ| \(error)")
        #expect(throws: QuiverError.self) { try mlp.embed(features: [1, 2, 3], rows: 1) }
    }

    @Test func rejectsMismatchedLayersAndUnknownActivations() throws {
        guard let backend = try TestBackends.backend("cpu") else { return }
        let dir = try ModelFixtures.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try ModelFixtures.writeSafeTensors([("a.weight", [8, 4]), ("a.bias", [8]), ("b.weight", [2, 6]), ("c.bias", [3])],
                                           to: dir.appendingPathComponent("w.safetensors"))
        func manifest(_ layers: String) throws -> String {
            let url = dir.appendingPathComponent("m.json")
            try Data(#"{"format": "quiver-mlp", "version": 1, "weights": "w.safetensors", "layers": [\#(layers)]}"#.utf8).write(to: url)
            return url.path
        }
        let chain = #expect(throws: QuiverError.self) {
            try MLPEncoder.load(manifestPath: manifest(#"{"weight": "a.weight", "bias": "a.bias", "activation": "relu"}, {"weight": "b.weight"}"#), backend: backend)
        }
        #expect(chain?.description.contains("layer 1") == true && chain?.description.contains("[2, 6]") == true && chain?.description.contains("[2, 8]") == true, "\(String(describing: chain))")
        let act = #expect(throws: QuiverError.self) {
            try MLPEncoder.load(manifestPath: manifest(#"{"weight": "a.weight", "activation": "swish"}"#), backend: backend)
        }
        #expect(act?.description.contains("swish") == true)
        let bias = #expect(throws: QuiverError.self) {
            try MLPEncoder.load(manifestPath: manifest(#"{"weight": "a.weight", "bias": "c.bias"}"#), backend: backend)
        }
        #expect(bias?.description.contains("'c.bias'") == true && bias?.description.contains("[3]") == true && bias?.description.contains("[8]") == true)
        let missing = #expect(throws: QuiverError.self) {
            try MLPEncoder.load(manifestPath: manifest(#"{"weight": "z.weight"}"#), backend: backend)
        }
        #expect(missing?.description.contains("'z.weight'") == true)
        // identity layers, no bias, no normalize: y = x·Wᵀ.
        let plain = try MLPEncoder.load(manifestPath: manifest(#"{"weight": "a.weight"}"#), backend: backend)
        #expect(!plain.normalize && plain.outputDimension == 8)
    }
}
