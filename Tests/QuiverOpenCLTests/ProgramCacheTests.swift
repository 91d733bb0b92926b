import Foundation
import QuiverCore
import QuiverKernels
import QuiverOpenCL
import QuiverTestSupport
import Testing

@Suite struct ProgramCacheTests {
    func freshDirectory(_ name: String) -> String {
        let dir = NSTemporaryDirectory() + "quiver-cache-test-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.removeItem(atPath: dir)
        return dir
    }

    /// Runs one elementwise op (compiles elementwise.cl) and checks the result.
    func exercise(_ be: OpenCLBackend) throws {
        let out = try be.buffer([3], .f32)
        try be.add(try be.f32([3], [1, 2, 3]), try be.f32([3], [10, 20, 30]), into: out)
        #expect(try be.values(out) == [11, 22, 33])
    }

    @Test func secondBackendLoadsBinariesFromDisk() throws {
        guard let device = try TestDevice.device.get() else { return }
        let dir = freshDirectory("reuse")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try OpenCLBackend(device: device, options: .init(cacheDirectory: dir))
        try exercise(first)
        try exercise(first)
        #expect(first.cacheStats.builds == 1)
        #expect(first.cacheStats.diskHits == 0)
        #expect(first.cacheStats.memoryHits >= 1)
        let path = try #require(first.programCache.diskPath(family: .elementwise, defines: ""))
        #expect(FileManager.default.fileExists(atPath: path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)

        let second = try OpenCLBackend(device: device, options: .init(cacheDirectory: dir))
        try exercise(second)
        #expect(second.cacheStats.diskHits == 1)
        #expect(second.cacheStats.builds == 0)
    }

    @Test func corruptCacheFileFallsBackToSourceAndIsRewritten() throws {
        guard let device = try TestDevice.device.get() else { return }
        let dir = freshDirectory("corrupt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try OpenCLBackend(device: device, options: .init(cacheDirectory: dir))
        try exercise(first)
        let path = try #require(first.programCache.diskPath(family: .elementwise, defines: ""))
        let good = try #require(FileManager.default.contents(atPath: path))

        // Truncated file, flipped payload byte, garbage: each must rebuild and rewrite the file.
        var flipped = [UInt8](good)
        flipped[flipped.count / 2] ^= 0xFF
        // A well-formed file whose payload the driver must reject (exercises the driver fallback).
        let junk = [UInt8]("definitely not a program binary".utf8)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in junk { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        var wellFormed = Array("QVCLBIN1".utf8)
        for value in [UInt64(junk.count), hash] { for i in 0..<8 { wellFormed.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) } }
        wellFormed += junk
        for bad in [Data(good.prefix(good.count / 2)), Data(flipped), Data("not a binary".utf8), Data(wellFormed)] {
            try bad.write(to: URL(fileURLWithPath: path))
            let be = try OpenCLBackend(device: device, options: .init(cacheDirectory: dir))
            try exercise(be)
            #expect(be.cacheStats.builds == 1)
            #expect(be.cacheStats.diskHits == 0)
            let again = try OpenCLBackend(device: device, options: .init(cacheDirectory: dir))
            try exercise(again)
            #expect(again.cacheStats.diskHits == 1, "the rebuilt binary was written back")
        }
    }

    @Test func unwritableDirectoryDisablesDiskCaching() throws {
        guard let device = try TestDevice.device.get() else { return }
        let file = freshDirectory("file")
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))   // a file where a directory should be
        defer { try? FileManager.default.removeItem(atPath: file) }
        let be = try OpenCLBackend(device: device, options: .init(cacheDirectory: file + "/kernels"))
        #expect(be.programCache.directory == nil)
        try exercise(be)
        #expect(be.cacheStats.builds == 1)

        let memoryOnly = try OpenCLBackend(device: device, options: .init(diskCache: false))
        #expect(memoryOnly.programCache.directory == nil)
        try exercise(memoryOnly)
    }

    @Test func differentOptionsAreDifferentPrograms() throws {
        guard let be = try TestDevice.backend() else { return }
        let a = be.programCache.diskPath(family: .gemm, defines: "-D ACT=1")
        let b = be.programCache.diskPath(family: .gemm, defines: "-D ACT=2")
        #expect(a != nil && a != b)
    }
}
