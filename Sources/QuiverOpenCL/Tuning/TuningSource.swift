/// Where an `OpenCLBackend` looks for tuned kernel parameters (`OpenCLBackend.Options.tuning`).
public enum TuningSource: Sendable, Equatable {
    /// `TuningCache.defaultLocation()`: `$QUIVER_TUNING_CACHE`, else the user cache directory.
    case automatic
    /// This cache file.
    case file(String)
    /// Never: untuned defaults (tests, baselines).
    case disabled

    /// The cache to read, nil when disabled (or no location is known).
    public var cache: TuningCache? {
        switch self {
        case .automatic: TuningCache.defaultLocation()
        case .file(let path): TuningCache(path: path)
        case .disabled: nil
        }
    }
}
