/// Why the scheduler refused or dropped a request. Cancellation is reported as `CancellationError`.
public enum SchedulerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The wait queue was full when the request arrived; retry later or add capacity.
    case overloaded(queued: Int, capacity: Int)
    /// The request could not have finished by its deadline (predicted completion after it),
    /// so it was dropped before running.
    case deadlineExceeded(deadline: SchedulerInstant, predictedCompletion: SchedulerInstant)
    /// The runner returned a different number of responses than the batch had requests.
    case responseCountMismatch(expected: Int, got: Int)
    /// The batcher was shut down before the request ran.
    case shutDown

    public var description: String {
        switch self {
        case let .overloaded(queued, capacity):
            "overloaded: \(queued) requests already wait (capacity \(capacity)); retry later, lower the load, or raise the queue capacity"
        case let .deadlineExceeded(deadline, predicted):
            "deadline exceeded: the request would finish at \(predicted), after its deadline \(deadline); it was not run"
        case let .responseCountMismatch(expected, got):
            "batch runner returned \(got) responses for \(expected) requests"
        case .shutDown:
            "the scheduler was shut down before the request ran"
        }
    }
}
