import QuiverCore
import QuiverOpenCL
import QuiverTestSupport
import Testing

@Suite struct ElementwiseTests {
    @Test func addIncludingInPlace() throws {
        guard let be = try TestDevice.backend() else { return }
        var rng = SeededRandom(seed: 1)
        for shape: Shape in [[1], [7, 33], [3, 5, 129]] {
            let a = rng.floats(shape.count), b = rng.floats(shape.count)
            let ta = try be.f32(shape, a), out = try be.buffer(shape, .f32)
            try be.add(ta, try be.f32(shape, b), into: out)
            let want = zip(a, b).map { Double($0) + Double($1) }
            expectClose(try be.values(out), want, atol: 1e-6, "add \(shape)")
            try be.add(ta, try be.f32(shape, b), into: ta)   // out aliases a
            expectClose(try be.values(ta), want, atol: 1e-6, "add in place \(shape)")
        }
    }

    @Test(arguments: Activation.allCases)
    func activations(activation: Activation) throws {
        guard let be = try TestDevice.backend() else { return }
        var rng = SeededRandom(seed: 2)
        let x = rng.floats(257, in: -6...6) + [0, -0.0, 20, -20, 1e-3]
        let out = try be.buffer([x.count], .f32)
        try be.activate(try be.f32([x.count], x), activation, into: out)
        expectClose(try be.values(out), x.map { Reference.activate(Double($0), activation.rawValue) }, atol: 2e-6, rtol: 2e-6, "\(activation)")
    }

    @Test func f16RoundsToNearestEven() throws {
        guard let be = try TestDevice.backend() else { return }
        let x: [Float] = [1 + 0x1p-11, 1 + 3 * 0x1p-11, 1 + 0x1p-12, -(1 + 3 * 0x1p-11), 65504, 70000, 0x1p-24, 0.1, -2.5]
        let half = try be.buffer([x.count], .f16)
        try be.convert(try be.f32([x.count], x), into: half)
        let bits = try be.download(half).withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
        let want = x.map { Float16($0).bitPattern }   // Swift's Float16(Float) rounds to nearest even
        #expect(bits == want)
        #expect(bits[0] == Float16(1).bitPattern, "1 + 2^-11 must round to 1.0 (tie to even)")
        #expect(bits[1] == Float16(1 + 0x1p-9).bitPattern, "1 + 3·2^-11 must round to 1 + 2^-9 (tie to even)")

        let back = try be.buffer([x.count], .f32)
        try be.convert(half, into: back)
        #expect(try be.values(back) == want.map { Float(Float16(bitPattern: $0)) })
    }

    @Test func convertSameDTypeCopies() throws {
        guard let be = try TestDevice.backend() else { return }
        let h = try be.tensor(Tensor(shape: [2, 3], halves: [1, 2, 3, 4, 5, 6]))
        let copy = try be.buffer([2, 3], .f16)
        try be.convert(h, into: copy)
        #expect(try be.values(copy) == [1, 2, 3, 4, 5, 6])
        try be.convert(h, into: h)
        #expect(try be.values(h) == [1, 2, 3, 4, 5, 6])
    }

    @Test func rejectsForeignAndMismatchedTensors() throws {
        guard let be = try TestDevice.backend() else { return }
        final class Foreign: DeviceTensor, @unchecked Sendable {
            let shape: Shape = [2]
            let dtype: DType = .f32
        }
        let t = try be.buffer([2], .f32)
        #expect(throws: QuiverError.foreignTensor(op: "add", backend: "opencl")) { try be.add(t, Foreign(), into: t) }
        #expect(throws: QuiverError.self) { try be.add(t, try be.buffer([3], .f32), into: t) }
        #expect(throws: QuiverError.self) { try be.upload(try Tensor(shape: [3], floats: [1, 2, 3]), to: t) }
    }
}
