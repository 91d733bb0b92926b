import Foundation
import Testing
import QuiverCore

/// `.npy` reading (numpy-written fixtures), writing (read back by our reader; the header is the
/// v1.0 layout numpy reads), the streaming writer, and rejection of unsupported or broken files.
@Suite struct FormatsNpyTests {
    @Test func readsNumpyWrittenFiles() throws {
        let expected = try FormatsFixtures.values()
        let f32 = try Npy.read(path: FormatsFixtures.path("f32.npy"))
        #expect(f32.dtype == .f32 && f32.shape.dims == expected.f32_shape && f32.floats() == expected.f32)
        let f16 = try Npy.read(path: FormatsFixtures.path("f16.npy"))
        #expect(f16.dtype == .f16 && f16.shape.dims == [3, 4] && f16.floats() == expected.f32)
        let vector = try Npy.read(path: FormatsFixtures.path("vector.npy"))
        #expect(vector.shape.dims == [3] && vector.floats() == [1.5, -2, 3.25])
    }

    @Test func rejectsUnsupportedLayoutsAndDTypes() throws {
        let fortran = #expect(throws: QuiverError.self) { try Npy.read(path: FormatsFixtures.path("fortran.npy")) }
        #expect(fortran?.text.contains("fortran_order") == true)
        for name in ["int64.npy", "float64.npy"] {
            let error = #expect(throws: QuiverError.self) { try Npy.read(path: FormatsFixtures.path(name)) }
            #expect(error?.text.contains(name) == true && error?.text.contains("not supported") == true, "\(String(describing: error))")
        }
    }

    @Test func rejectsTruncatedAndGarbageFiles() throws {
        let dir = try FormatsFixtures.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try FormatsFixtures.bytes("f32.npy")
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "not a .npy"),
            ("garbage", Array("PK\u{3}\u{4} zip, not npy".utf8), "not a .npy"),
            ("header-cut", Array(good.prefix(30)), "truncated .npy header"),
            ("data-cut", Array(good.dropLast(4)), "truncated .npy"),
        ]
        for (name, bytes, needle) in cases {
            let path = try FormatsFixtures.write(bytes, name + ".npy", in: dir)
            let error = #expect(throws: QuiverError.self, "\(name)") { try Npy.read(path: path) }
            #expect(error?.text.contains(path) == true && error?.text.contains(needle) == true, "\(name): \(String(describing: error))")
        }
    }

    @Test func writeRoundTripsAndMatchesNumpysHeader() throws {
        let dir = try FormatsFixtures.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let expected = try FormatsFixtures.values()
        let path = dir.appendingPathComponent("out.npy").path
        try Npy.write(Tensor(shape: [3, 4], floats: expected.f32), to: path)
        // numpy writes the same v1.0 header for the same array, so the files are byte-identical.
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == FormatsFixtures.bytes("f32.npy"))
        let vpath = dir.appendingPathComponent("v.npy").path
        try Npy.write(Tensor(shape: [3], floats: [1.5, -2, 3.25]), to: vpath)
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: vpath))) == FormatsFixtures.bytes("vector.npy"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["out.npy", "v.npy"])
    }

    @Test func streamingWriterPatchesRowCount() throws {
        let dir = try FormatsFixtures.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("stream.npy").path
        let writer = try NpyWriter(path: path, columns: 3)
        try writer.append(rows: [1, 2, 3, 4, 5, 6])
        #expect(!FileManager.default.fileExists(atPath: path), "nothing under the final name before finish()")
        try writer.append(rows: [7, 8, 9])
        #expect(throws: QuiverError.self) { try writer.append(rows: [1, 2]) }
        try writer.finish()
        let t = try Npy.read(path: path)
        #expect(t.shape.dims == [3, 3] && t.floats() == (1...9).map(Float.init))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["stream.npy"])
    }

    @Test func abandonedWriterLeavesNothing() throws {
        let dir = try FormatsFixtures.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            let writer = try NpyWriter(path: dir.appendingPathComponent("x.npy").path, columns: 2)
            try writer.append(rows: [1, 2])
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        let empty = try NpyWriter(path: dir.appendingPathComponent("e.npy").path, columns: 4)
        try empty.finish()
        #expect(try Npy.read(path: dir.appendingPathComponent("e.npy").path).shape.dims == [0, 4])
    }
}
