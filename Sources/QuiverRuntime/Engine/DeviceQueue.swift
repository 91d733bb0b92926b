import Dispatch

/// One serial queue for all backend work of an `Engine`: batches from different batchers (text,
/// features, search) never run on the device at the same time, and blocking compute stays off
/// Swift's cooperative threads (which the batchers' actors need).
final class DeviceQueue: Sendable {
    private let queue = DispatchQueue(label: "quiver.engine.device", qos: .userInitiated)

    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}
