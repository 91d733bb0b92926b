import Foundation
import Hummingbird
import QuiverRuntime
@testable import QuiverServer
import QuiverTestSupport
import Testing

/// The hand-written response bodies (`JSONWritable`) are byte for byte what `JSONEncoder` wrote
/// before them, on floats of every kind of magnitude and on strings that need escapes.
struct JSONWritableTests {
    /// Floats whose shortest form takes every branch of Swift's `description`: integers (`1.0`
    /// → `1`), signed zero, exponents both ways, subnormals, the extremes, random bit patterns.
    static func awkwardFloats(count: Int, seed: UInt64) -> [Float] {
        var random = SeededRandom(seed: seed)
        let fixed: [Float] = [0, -0.0, 1, -1, 2, 0.5, 0.1, -0.015, 1e-5, 1.5e-7, 1e7, 16777216, 1e16, 123456789, 3.4028235e38,
                              -3.4028235e38, .leastNonzeroMagnitude, .leastNormalMagnitude, 1e-45, 0.099999994, 100]
        var out = fixed
        while out.count < count {
            let bits = UInt32(truncatingIfNeeded: random.next())
            let v = Float(bitPattern: bits)
            if v.isFinite { out.append(v) }
            out.append(Float.random(in: -1...1, using: &random))
        }
        return Array(out.prefix(count))
    }

    static func encoded<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func written(_ value: some JSONWritable) throws -> String {
        var out: [UInt8] = []
        #expect(value.writeJSON(into: &out))
        return String(decoding: out, as: UTF8.self)
    }

    @Test func embeddingResponseMatchesJSONEncoder() throws {
        let floats = Self.awkwardFloats(count: 3 * 384, seed: 7)
        typealias R = OpenAIRoutes.EmbeddingResponse
        for model in ["all-MiniLM-L6-v2", "org/model \"quoted\" \\ tab\t nl\n bs\u{8} ff\u{C} ctl\u{1}\u{1F} é 🙂 \u{2028}"] {
            let response = R(data: (0..<3).map { R.Item(index: $0, embedding: .floats(Array(floats[($0 * 384)..<(($0 + 1) * 384)]))) },
                             model: model, usage: .init(promptTokens: 17, totalTokens: 17))
            #expect(try Self.written(response) == Self.encoded(response))
            let base64 = R(data: [R.Item(index: 0, embedding: .base64(OpenAIRoutes.base64(Array(floats.prefix(384)))))],
                           model: model, usage: .init(promptTokens: 0, totalTokens: 123_456))
            #expect(try Self.written(base64) == Self.encoded(base64))
        }
        let empty = R(data: [], model: "m", usage: .init(promptTokens: 0, totalTokens: 0))
        #expect(try Self.written(empty) == Self.encoded(empty))
    }

    @Test func floatRowsMatchJSONEncoder() throws {
        let floats = Self.awkwardFloats(count: 4 * 50, seed: 11)
        let rows = (0..<4).map { Array(floats[($0 * 50)..<(($0 + 1) * 50)]) }
        #expect(try Self.written(FloatRows(rows: rows)) == Self.encoded(rows))
        #expect(try Self.written(FloatRows(rows: [[]])) == Self.encoded([[Float]]([[]])))
        let groups = [Array(rows.prefix(2)), [], Array(rows.suffix(3))]
        #expect(try Self.written(FloatRowGroups(groups: groups)) == Self.encoded(groups))
    }

    /// JSON has no NaN: the writer declines and the encoder's error stands, as before.
    @Test func nonFiniteFloatsFallBackToTheEncoderError() {
        for bad: Float in [.nan, .infinity, -.infinity] {
            var out: [UInt8] = []
            #expect(!FloatRows(rows: [[1, bad]]).writeJSON(into: &out))
            let response = OpenAIRoutes.EmbeddingResponse(data: [.init(index: 0, embedding: .floats([bad]))], model: "m",
                                                         usage: .init(promptTokens: 1, totalTokens: 1))
            #expect(throws: EncodingError.self) { try JSONBody.response(response) }
        }
    }
}
