import Foundation
import QuiverTestSupport
import QuiverCore

/// Paths and loaders for the model fixtures (scripts/fixtures/encoder_parity.py) and the
/// all-MiniLM-L6-v2 directory (scripts/fetch-model.sh).
enum ModelFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("Tests/Fixtures/models")
    static let miniLM = root.appendingPathComponent("models/all-MiniLM-L6-v2")

    struct MissingModel: Error, CustomStringConvertible {
        let description = "models/all-MiniLM-L6-v2/model.safetensors is missing: run scripts/fetch-model.sh from the repository root"
    }

    /// The MiniLM model directory; throws (failing the test) with a hint when it was not fetched.
    static func miniLMDirectory() throws -> String {
        guard FileManager.default.fileExists(atPath: miniLM.appendingPathComponent("model.safetensors").path) else { throw MissingModel() }
        return miniLM.path
    }

    /// Token ids, masks and expected embeddings written by sentence-transformers.
    struct Parity: Decodable {
        let sentences: [String]
        let batch: Int
        let sequence: Int
        let hidden: Int
        let input_ids: [Int32]
        let attention_mask: [Int32]
        let embeddings: [Float]

        /// Rows `rows`, re-padded to their longest sequence (padding past every row's last kept
        /// token does not change BERT's outputs for kept tokens, so this is the same input).
        func subset(_ rows: [Int]) -> (ids: [Int32], mask: [Int32], sequence: Int, expected: [Float]) {
            let lengths: [Int] = rows.map { r in
                let last: Int? = (0..<sequence).last { attention_mask[r * sequence + $0] != 0 }
                return (last ?? 0) + 1
            }
            let s = lengths.max() ?? 1
            var ids: [Int32] = [], mask: [Int32] = [], expected: [Float] = []
            for r in rows {
                ids += input_ids[(r * sequence)..<(r * sequence + s)]
                mask += attention_mask[(r * sequence)..<(r * sequence + s)]
                expected += embeddings[(r * hidden)..<((r + 1) * hidden)]
            }
            return (ids, mask, s, expected)
        }
    }

    static func parity() throws -> Parity {
        try JSONDecoder().decode(Parity.self, from: Data(contentsOf: fixtures.appendingPathComponent("minilm_parity.json")))
    }

    struct MLPExpected: Decodable {
        let rows: Int
        let columns: Int
        let output_columns: Int
        let features: [Float]
        let expected: [Double]
    }

    static func mlpExpected() throws -> MLPExpected {
        try JSONDecoder().decode(MLPExpected.self, from: Data(contentsOf: fixtures.appendingPathComponent("mlp/expected.json")))
    }

    static func scratch() throws -> URL { try Scratch.directory("models") }

    /// Writes an F32 safetensors file holding `tensors` (name → shape; values are small ramps).
    static func writeSafeTensors(_ tensors: [(String, [Int])], to url: URL) throws {
        var header: [String] = [], data: [UInt8] = []
        for (name, shape) in tensors {
            let n = shape.reduce(1, *)
            let begin = data.count
            for i in 0..<n { data += withUnsafeBytes(of: (Float(i % 7) * 0.01).bitPattern.littleEndian) { Array($0) } }
            header.append("\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(begin),\(data.count)]}")
        }
        let json = Array(("{" + header.joined(separator: ",") + "}").utf8)
        var length = UInt64(json.count).littleEndian
        try Data(withUnsafeBytes(of: &length) { Array($0) } + json + data).write(to: url)
    }
}

/// Cosine similarity and max |a − b| between rows.
enum RowCompare {
    static func worst(_ got: [Float], _ expected: [Float], columns: Int) -> (cosine: Double, maxAbs: Double, row: Int) {
        var worstCos = 1.0, worstAbs = 0.0, worstRow = -1
        guard got.count == expected.count, columns > 0 else { return (-1, .infinity, -1) }
        for r in 0..<(got.count / columns) {
            var dot = 0.0, na = 0.0, nb = 0.0
            for c in 0..<columns {
                let a = Double(got[r * columns + c]), b = Double(expected[r * columns + c])
                dot += a * b; na += a * a; nb += b * b
                let d = abs(a - b)
                worstAbs = d.isNaN ? .infinity : max(worstAbs, d)   // NaN counts as worst
            }
            let cos = dot / max((na * nb).squareRoot(), 1e-30)
            if !(cos >= worstCos) { worstCos = cos.isNaN ? -1 : cos; worstRow = r }
        }
        return (worstCos, worstAbs, worstRow)
    }
}
