import Foundation
import Testing
import QuiverCore

/// SafeTensors reader against a file written by safetensors.torch (F32, F16, BF16, I64), and
/// every way a file can be broken: each must throw `QuiverError.io` naming the file and tensor.
@Suite struct FormatsSafeTensorsTests {
    @Test func readsEveryDTypeWrittenByPython() throws {
        let expected = try FormatsFixtures.values()
        let file = try SafeTensors(path: FormatsFixtures.path("mixed.safetensors"))
        #expect(Set(file.names) == ["f32", "f16", "bf16", "i64", "big_i64"])
        #expect(file.metadata["format"] == "pt")
        let f32 = try file.floatTensor("f32")
        #expect(f32.shape.dims == expected.f32_shape && f32.floats() == expected.f32)
        #expect(file.entry("f16")?.dtype == .F16 && file.entry("bf16")?.dtype == .BF16 && file.entry("i64")?.dtype == .I64)
        #expect(try file.floatTensor("f16").floats() == expected.f16)
        #expect(try file.floatTensor("bf16").floats() == expected.bf16)
        #expect(try file.int32Tensor("i64").int32s() == expected.i64.map { Int32($0) })
        // Byte ranges are absolute and inside the file.
        let size = try FormatsFixtures.bytes("mixed.safetensors").count
        #expect(file.entries.allSatisfy { $0.byteRange.upperBound <= size })
    }

    @Test func accumulatesRowsFromTheMapping() throws {
        let file = try SafeTensors(path: FormatsFixtures.path("mixed.safetensors"))
        var row = [Float](repeating: 1, count: 4)
        try row.withUnsafeMutableBufferPointer { try file.accumulateFloats(file.require("f32"), from: 4, count: 4, into: $0.baseAddress!) }
        #expect(row == [1.0, 1.125, 1.25, 1.375])
        let error = #expect(throws: QuiverError.self) {
            try row.withUnsafeMutableBufferPointer { try file.accumulateFloats(file.require("f32"), from: 10, count: 4, into: $0.baseAddress!) }
        }
        #expect(error?.text.contains("'f32'") == true)
    }

    @Test func namesMissingKeysAndBadConversions() throws {
        let file = try SafeTensors(path: FormatsFixtures.path("mixed.safetensors"))
        let missing = #expect(throws: QuiverError.self) { try file.floatTensor("nope") }
        #expect(missing?.text.contains("mixed.safetensors") == true && missing?.text.contains("'nope'") == true)
        let range = #expect(throws: QuiverError.self) { try file.int32Tensor("big_i64") }
        #expect(range?.text.contains("2147483648") == true && range?.text.contains("big_i64") == true)
        let kind = #expect(throws: QuiverError.self) { try file.floatTensor("i64") }
        #expect(kind?.text.contains("I64") == true)
    }

    @Test func rejectsTruncatedAndGarbageFiles() throws {
        let dir = try FormatsFixtures.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try FormatsFixtures.bytes("mixed.safetensors")
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "truncated"),
            ("short", [1, 2, 3], "truncated"),
            ("header-cut", Array(good.prefix(40)), "header length"),
            ("data-cut", Array(good.dropLast(5)), "outside"),
            ("garbage", Array("this is not a safetensors file at all".utf8), "header length"),
            ("bad-json", FormatsFixtures.safetensors(header: "{not json", data: []), "bad safetensors header"),
            ("bad-dtype", FormatsFixtures.safetensors(header: #"{"x":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "unknown dtype 'Q7'"),
            ("bad-size", FormatsFixtures.safetensors(header: #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0]), "do not hold"),
            ("backwards", FormatsFixtures.safetensors(header: #"{"x":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0]), "outside"),
        ]
        for (name, bytes, needle) in cases {
            let path = try FormatsFixtures.write(bytes, name + ".safetensors", in: dir)
            let error = #expect(throws: QuiverError.self, "\(name)") { try SafeTensors(path: path) }
            #expect(error?.text.contains(path) == true, "\(name): \(String(describing: error))")
            #expect(error?.text.contains(needle) == true, "\(name): \(String(describing: error))")
        }
        let absent = #expect(throws: QuiverError.self) { try SafeTensors(path: dir.appendingPathComponent("absent").path) }
        #expect(absent?.text.contains("cannot open") == true)
    }

    @Test func readsUnalignedData() throws {
        // A 3-byte header puts the data at offset 11: loads must not assume alignment.
        let values: [Float] = [1.5, -2, 1e-3]
        let data = values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        let header = #"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#
        let dir = try FormatsFixtures.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try FormatsFixtures.write(FormatsFixtures.safetensors(header: header + " ", data: data), "u.safetensors", in: dir)
        #expect(try SafeTensors(path: path).floatTensor("x").floats() == values)
    }
}
