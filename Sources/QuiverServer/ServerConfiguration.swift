/// Where `quiver serve` listens, who may call it, and how much one request may ask for.
/// Every limit is reported by `GET /info`.
public struct ServerConfiguration: Sendable {
    /// Address to bind; loopback unless the operator opens it up (`--host 0.0.0.0`).
    public var host = "127.0.0.1"
    /// TCP port; 0 picks a free one (reported through `onRunning`).
    public var port = 8080
    /// When set, every route but `GET /health` needs `Authorization: Bearer <apiKey>`.
    public var apiKey: String?
    /// Largest request body accepted, in bytes; larger ones get 413.
    public var maxBodyBytes = 4 << 20
    /// Most inputs (texts or token-id arrays) in one embed or tokenize request; more get 413.
    public var maxInputs = 1024
    /// Default for requests that do not say `truncate`: cut inputs longer than the model's
    /// max length (true), or answer 413 (false, like TEI without `--auto-truncate`).
    public var autoTruncate = false
    /// Deadline for each input's wait + run in the engine; nil leaves it to the batching policy
    /// (`slo` gives every request its latency target).
    public var requestTimeout: Duration?

    public init() {}
}
