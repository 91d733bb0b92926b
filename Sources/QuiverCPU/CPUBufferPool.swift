import Foundation
import QuiverCore

/// Recycles the memory of released CPU tensors. An encoder allocates its activations per batch
/// (~110 MB for all-MiniLM-L6-v2 at 32 × 256 tokens); fresh allocations of that size are mapped,
/// page-faulted in and unmapped every time, which cost ~3% of an encode, all of it on the calling
/// thread while the other cores waited.
///
/// Blocks of at least `minimumBytes` are sized in classes of a quarter octave
/// (2^k · {1, 1.25, 1.5, 1.75}), so at most a fifth of a block goes unused. A request takes the
/// smallest released block that holds it (best fit), so batches that shrink reuse the memory of
/// the first, largest one. Released blocks wait in a list capped at `capacity` bytes, the oldest
/// dropped first. Smaller requests go straight to the allocator.
final class CPUBufferPool: @unchecked Sendable {
    /// Requests below this size are not pooled (malloc serves them from its heap cheaply).
    static let minimumBytes = 1 << 18

    /// Most bytes kept in released blocks.
    let capacity: Int
    private let lock = NSLock()
    private var released: [TensorStorage] = []   // oldest first
    private var releasedBytes = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The block size for a request of `bytes` (≥ `minimumBytes`): `bytes` rounded up to a
    /// multiple of a quarter of its highest power of two.
    static func sizeClass(_ bytes: Int) -> Int {
        let step = 1 << (Int.bitWidth - bytes.leadingZeroBitCount - 3)
        return (bytes + step - 1) / step * step
    }

    /// Storage of at least `bytes` bytes: the best-fitting released block, or a new one. The first
    /// `bytes` are zero when `zeroed`; otherwise a reused block keeps its old contents.
    func storage(bytes: Int, zeroed: Bool) -> TensorStorage {
        guard bytes >= Self.minimumBytes else { return TensorStorage(byteCount: bytes) }
        lock.lock()
        var best: Int?
        for (i, block) in released.enumerated() where block.byteCount >= bytes {
            if best.map({ block.byteCount <= released[$0].byteCount }) ?? true { best = i }   // ties: the newest
        }
        let reused = best.map { released.remove(at: $0) }
        if let reused { releasedBytes -= reused.byteCount }
        lock.unlock()
        guard let reused else { return TensorStorage(byteCount: Self.sizeClass(bytes)) }
        if zeroed { reused.pointer.initializeMemory(as: UInt8.self, repeating: 0, count: bytes) }
        return reused
    }

    /// Takes back a block from `storage(bytes:zeroed:)` once no tensor uses it.
    func recycle(_ storage: TensorStorage) {
        guard storage.byteCount >= Self.minimumBytes, storage.byteCount <= capacity else { return }
        lock.lock()
        defer { lock.unlock() }
        released.append(storage)
        releasedBytes += storage.byteCount
        while releasedBytes > capacity {
            releasedBytes -= released.removeFirst().byteCount
        }
    }

    /// Bytes held in released blocks (for tests).
    var heldBytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return releasedBytes
    }
}
