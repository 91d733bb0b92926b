import QuiverCore
@testable import QuiverCPU
import Testing

@Suite struct BufferPoolTests {
    @Test func sizeClassesAreQuarterOctaves() {
        let m = CPUBufferPool.minimumBytes
        #expect(CPUBufferPool.sizeClass(m) == m)
        #expect(CPUBufferPool.sizeClass(m + 1) == m + m / 4)
        #expect(CPUBufferPool.sizeClass(m + m / 4) == m + m / 4)
        #expect(CPUBufferPool.sizeClass(2 * m - 1) == 2 * m)
        for bytes in stride(from: m, to: 64 * m, by: 12_345) {
            let size = CPUBufferPool.sizeClass(bytes)
            #expect(size >= bytes && size * 4 <= bytes * 5 + 4, "\(bytes) → \(size)")
        }
    }

    /// A released block comes back for any request it holds (zeroed when asked), the smallest
    /// such block first; small requests are not pooled.
    @Test func reusesTheBestFittingBlock() {
        let pool = CPUBufferPool(capacity: 1 << 24)
        let m = CPUBufferPool.minimumBytes
        let big = pool.storage(bytes: 8 * m, zeroed: true), small = pool.storage(bytes: 2 * m, zeroed: true)
        for block in [big, small] {
            block.pointer.initializeMemory(as: UInt8.self, repeating: 7, count: block.byteCount)
            pool.recycle(block)
        }
        #expect(pool.heldBytes == 10 * m)

        let a = pool.storage(bytes: m + 5, zeroed: true)   // fits both: takes the smaller
        #expect(a.pointer == small.pointer)
        let bytes = UnsafeBufferPointer(start: a.pointer.assumingMemoryBound(to: UInt8.self), count: small.byteCount)
        #expect(bytes[..<(m + 5)].allSatisfy { $0 == 0 })
        let b = pool.storage(bytes: 3 * m, zeroed: false)   // only the big one fits; left as it was
        #expect(b.pointer == big.pointer && b.pointer.load(as: UInt8.self) == 7)
        #expect(pool.heldBytes == 0)
        let c = pool.storage(bytes: 3 * m, zeroed: false)   // nothing left: new memory, a size class
        #expect(c.byteCount == CPUBufferPool.sizeClass(3 * m))

        pool.recycle(pool.storage(bytes: 100, zeroed: true))
        #expect(pool.heldBytes == 0)   // small blocks are not kept
    }

    @Test func dropsTheOldestBlocksBeyondCapacity() {
        let m = CPUBufferPool.minimumBytes
        let pool = CPUBufferPool(capacity: 3 * m)
        let blocks = (0..<4).map { _ in pool.storage(bytes: m, zeroed: false) }
        for block in blocks { pool.recycle(block) }
        #expect(pool.heldBytes == 3 * m)
        #expect(pool.storage(bytes: m, zeroed: false).pointer == blocks[3].pointer)   // ties: the newest
        pool.recycle(pool.storage(bytes: 4 * m, zeroed: false))   // larger than the capacity: freed
        #expect(pool.heldBytes == 2 * m)
    }

    /// `buffer` is zero-filled even when its memory held another tensor's values.
    @Test func backendBuffersStartZeroedAfterReuse() throws {
        let cpu = CPUBackend(threads: 1)
        for round in 0..<3 {
            let scratch = try cpu.uninitializedBuffer([300, 400], .f32)
            try cpu.upload(Tensor(shape: [300, 400], floats: Array(repeating: 1.5, count: 120_000)), to: scratch)
            let t = try cpu.buffer([300, 400], .f32)
            #expect(try cpu.download(t).floats().allSatisfy { $0 == 0 }, "round \(round)")
            try cpu.upload(Tensor(shape: [300, 400], floats: Array(repeating: 2.5, count: 120_000)), to: t)
        }
    }
}
