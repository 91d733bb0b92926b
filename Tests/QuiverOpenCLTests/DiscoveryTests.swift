import QuiverCore
import QuiverOpenCL
import QuiverTestSupport
import Testing

@Suite struct DiscoveryTests {
    @Test func devicesDescribeThemselves() throws {
        guard let device = try TestDevice.device.get() else { return }
        #expect(OpenCLDiscovery.loaderStatus().loaded)
        let all = try OpenCLDiscovery.devices()
        #expect(all.enumerated().allSatisfy { $0.offset == $0.element.index })
        #expect(!device.name.isEmpty)
        #expect(device.computeUnits >= 1)
        #expect(device.maxAllocationBytes >= 1 << 20 && device.maxAllocationBytes <= device.globalMemoryBytes)
        #expect(device.localMemoryBytes >= 16 * 1024)
        #expect(device.maxWorkGroupSize >= 64)
        #expect(device.openCLCVersion.hasPrefix("OpenCL C"))
    }

    @Test func backendReportsDeviceInfo() throws {
        guard let be = try TestDevice.backend() else { return }
        #expect(be.device.backend == "opencl")
        #expect(be.device.name == be.openCLDevice.name)
        let keys = be.device.details.map(\.0)
        for key in ["platform", "driver", "OpenCL C", "fp16", "local memory"] { #expect(keys.contains(key)) }
    }

    @Test func customKernelConfigIsUsed() throws {
        guard let device = try TestDevice.device.get() else { return }
        // Small tiles with a different shape: 32×16 tiles, 8 K-steps, 4×2 per work-item.
        let config = KernelConfig(gemm: .init(tileM: 32, tileN: 16, tileK: 8, workPerThreadM: 4, workPerThreadN: 2),
                                  rowwise: .init(workGroupSize: 64), attention: .init(queriesPerGroup: 32, keysPerTile: 16))
        let be = try OpenCLBackend(device: device, options: .init(cacheDirectory: TestDevice.cacheDirectory, kernels: config))
        #expect(be.kernelConfig == config)
        var rng = SeededRandom(seed: 50)
        let (m, n, k) = (45, 37, 29)
        let a = rng.floats(m * k), b = rng.floats(k * n)
        let c = try be.buffer([m, n], .f32)
        try be.gemm(try be.f32([m, k], a), try be.f32([k, n], b), transposeB: false, bias: nil, activation: .identity, into: c)
        let want = Reference.gemm(a.doubles, b.doubles, m: m, n: n, k: k, transposeB: false, bias: nil, activation: "identity")
        expectClose(try be.values(c), want, "gemm 32×16×8")
        let x = rng.floats(6 * 100)
        let out = try be.buffer([6, 100], .f32)
        try be.softmax(try be.f32([6, 100], x), mask: nil, into: out)
        expectClose(try be.values(out), Reference.softmax(x.doubles, mask: nil, b: 6, r: 1, n: 100), atol: 1e-6, "softmax WG 64")
        #expect(throws: QuiverError.self) {
            _ = try OpenCLBackend(device: device, options: .init(kernels: KernelConfig(gemm: .init(tileM: 30, workPerThreadM: 4))))
        }
    }
}
