import Dispatch

/// Where an `Engine`'s backend work runs: at most `slots` pieces at once (1: batches from
/// different batchers — text, features, search — never run on the device at the same time), off
/// Swift's cooperative threads (which the batchers' actors need) because compute blocks.
final class DeviceQueue: Sendable {
    let slots: Int
    private let queue: DispatchQueue
    private let free: DispatchSemaphore

    /// - Parameter slots: pieces of work allowed to run at once (values below 1 mean 1).
    init(slots: Int = 1) {
        self.slots = max(1, slots)
        queue = DispatchQueue(label: "quiver.engine.device", qos: .userInitiated,
                              attributes: self.slots > 1 ? .concurrent : [])
        free = DispatchSemaphore(value: self.slots)
    }

    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [free] in
                free.wait()
                defer { free.signal() }
                continuation.resume(with: Result { try work() })
            }
        }
    }
}
