/// A request waiting for a batch, as the planner sees it.
struct PendingRequest: Sendable, Equatable {
    /// Admission order: a larger id arrived later.
    var id: UInt64
    var arrival: SchedulerInstant
    /// Latest acceptable completion; nil: none.
    var deadline: SchedulerInstant?
    var rows: Int
    var units: Int
    var bucket: Int?

    /// Cost of running this request alone.
    var aloneCost: Int { rows * units }

    /// Service order: earliest deadline first (no deadline last), then arrival.
    func precedes(_ other: PendingRequest) -> Bool {
        switch (deadline, other.deadline) {
        case let (a?, b?) where a != b: a < b
        case (nil, _?): false
        case (_?, nil): true
        default: id < other.id
        }
    }
}

/// Requests waiting for a batch, kept in service order (see `PendingRequest.precedes`).
/// Insertion and removal are O(n); the queue is bounded by the batcher's capacity.
struct PendingQueue: Sendable {
    private(set) var items: [PendingRequest] = []

    var count: Int { items.count }
    var isEmpty: Bool { items.isEmpty }

    mutating func insert(_ request: PendingRequest) {
        var low = 0, high = items.count
        while low < high {
            let mid = (low + high) / 2
            if items[mid].precedes(request) { low = mid + 1 } else { high = mid }
        }
        items.insert(request, at: low)
    }

    /// Removes and returns the request with `id`, if it waits here.
    @discardableResult
    mutating func remove(id: UInt64) -> PendingRequest? {
        guard let index = items.firstIndex(where: { $0.id == id }) else { return nil }
        return items.remove(at: index)
    }

    /// Removes the requests with these ids; returns them in service order.
    mutating func remove(ids: Set<UInt64>) -> [PendingRequest] {
        let removed = items.filter { ids.contains($0.id) }
        items.removeAll { ids.contains($0.id) }
        return removed
    }
}
