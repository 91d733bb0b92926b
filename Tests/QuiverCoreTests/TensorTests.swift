import Testing
import QuiverCore

@Suite struct TensorTests {
    @Test func shapeCountsRowsAndPrints() {
        let s: Shape = [2, 3, 5]
        #expect(s.count == 30 && s.rows == 6 && s.last == 5 && s.sliceCount == 15 && s.rank == 3)
        #expect(s.description == "[2, 3, 5]")
        #expect(Shape([]).count == 1 && Shape([]).rows == 1 && Shape([4, 0]).rows == 4 && Shape([0, 3]).rows == 0)
    }

    @Test func tensorRoundTripsEveryDType() throws {
        let f = try Tensor(shape: [2, 2], floats: [1, -2, 3.5, 0])
        #expect(f.floats() == [1, -2, 3.5, 0] && f.byteCount == 16)
        let i = try Tensor(shape: [3], int32s: [7, -1, 0])
        #expect(try i.int32s() == [7, -1, 0])
        let h = try Tensor(shape: [3], halves: [1 + 0x1p-11, 65520, 0.1])
        #expect(h.floats() == [1, .infinity, Float(Float16(0.1))] && h.byteCount == 6)
        let b = try Tensor(shape: [2], int8s: [-128, 127])
        #expect(b.floats() == [-128, 127])
    }

    @Test func storageIsZeroFilledAndAligned() {
        let t = Tensor(zeros: [3, 7], .f32)
        #expect(t.floats().allSatisfy { $0 == 0 })
        #expect(Int(bitPattern: t.storage.pointer) % 64 == 0)
    }

    @Test func wrongValueCountNamesTheShape() {
        let error = #expect(throws: QuiverError.self) { try Tensor(shape: [2, 3], floats: [1, 2]) }
        #expect(error?.description.contains("[2, 3]") == true)
        #expect(throws: QuiverError.self) { try Tensor(zeros: [4]).reshaped([3]) }
        #expect(throws: QuiverError.self) { try Tensor(zeros: [4]).int32s() }
    }

    @Test func reshapeSharesStorage() throws {
        let t = try Tensor(shape: [2, 2], floats: [1, 2, 3, 4])
        let r = try t.reshaped([4])
        r.withUnsafeMutableBytes { $0.storeBytes(of: Float(9), toByteOffset: 0, as: Float.self) }
        #expect(t.floats()[0] == 9 && r.shape == [4])
    }

    @Test func errorsReadAsSentences() {
        #expect(QuiverError.openCL(call: "clCreateBuffer", code: -4, detail: "1 GiB").description
            == "clCreateBuffer failed with CL_MEM_OBJECT_ALLOCATION_FAILURE (-4): 1 GiB")
        #expect(QuiverError.unsupportedDType(op: "gemm", operand: "a", dtype: .i8, expected: [.f32, .f16]).description
            == "gemm: a has dtype i8, expected f32 or f16")
        #expect(QuiverError.backendUnavailable("no device", hint: "use --backend cpu").description == "no device. use --backend cpu")
    }
}
