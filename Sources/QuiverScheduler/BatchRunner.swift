/// The work a `DynamicBatcher` schedules: runs a batch of requests in one go (one encoder forward
/// pass, one scoring pass) and says what each request costs.
///
/// Cost model: a batch costs `rows × widest units` (see `cost(of:)`), the price a backend pays
/// when it pads every row to the longest one. A text encoder reports a request's padded token
/// count as its units, so the budget is tokens per batch; MLP towers and scoring keep the default
/// of 1 unit per row, so the budget is rows per batch.
public protocol BatchRunner: Sendable {
    associatedtype Request: Sendable
    associatedtype Response: Sendable
    /// A batch made ready to run (tokenized, packed, uploaded). Defaults to the requests themselves.
    associatedtype Prepared: Sendable = [Request]

    /// Rows this request adds to a batch (texts in an embed call, queries in a search). Default 1.
    func rows(of request: Request) -> Int

    /// Cost units of each of this request's rows: its padded token count for a text encoder,
    /// 1 (the default) for row-priced work.
    func units(of request: Request) -> Int

    /// Length bucket: under the `slo` policy only requests of the same bucket share a batch,
    /// which bounds padding. nil (the default) puts every request in one bucket.
    func bucket(of request: Request) -> Int?

    /// Readies a batch while the previous one runs (pipeline depth 1). Runs off the batcher's actor.
    func prepare(_ batch: [Request]) async throws -> Prepared

    /// Runs a prepared batch; returns exactly one response per request, in batch order.
    /// Its duration is what the batcher learns to predict.
    func run(_ batch: Prepared) async throws -> [Response]
}

extension BatchRunner {
    public func rows(of request: Request) -> Int { 1 }
    public func units(of request: Request) -> Int { 1 }
    public func bucket(of request: Request) -> Int? { nil }

    /// What running `batch` costs: total rows × the widest request's units (padded), in units.
    public func cost(of batch: some Sequence<Request>) -> Int {
        var shape = BatchShape()
        for request in batch { shape.add(rows: rows(of: request), units: units(of: request)) }
        return shape.cost
    }
}

extension BatchRunner where Prepared == [Request] {
    public func prepare(_ batch: [Request]) async throws -> [Request] { batch }
}

/// Rows and padded width of a batch being assembled.
struct BatchShape: Equatable, Sendable {
    var rows = 0
    var units = 0

    /// rows × widest units.
    var cost: Int { rows * units }

    mutating func add(rows: Int, units: Int) {
        self.rows += rows
        self.units = max(self.units, units)
    }

    func adding(rows: Int, units: Int) -> BatchShape {
        var copy = self
        copy.add(rows: rows, units: units)
        return copy
    }
}
