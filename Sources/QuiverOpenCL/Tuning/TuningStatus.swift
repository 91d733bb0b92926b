/// Where an `OpenCLBackend`'s kernel parameters came from.
public enum TuningStatus: Sendable, Equatable {
    /// From the tuning cache at `cache`, tuned at `tunedAt` ("quick" or "full" `mode`).
    case tuned(cache: String, tunedAt: String, mode: String)
    /// Defaults: the device has no entry in `cache` (nil: tuned configurations are disabled).
    case untuned(cache: String?)
    /// Defaults: the device's entry in `cache` was tuned against other kernel sources.
    case stale(cache: String, tunedAt: String)
    /// Defaults: the cache could not be used; `warning` says why and what to do.
    case ignored(cache: String, warning: String)
    /// `OpenCLBackend.Options.kernels` was given; the cache was not consulted.
    case callerConfig

    public var isTuned: Bool {
        if case .tuned = self { return true }
        return false
    }

    /// A sentence to show the user when something about the cache needs attention.
    public var warning: String? {
        switch self {
        case .ignored(_, let warning): warning
        default: nil
        }
    }

    /// One line for `quiver devices` and the backend's details.
    public var summary: String {
        switch self {
        case let .tuned(cache, tunedAt, mode): "tuned \(tunedAt) (\(mode)), from \(cache)"
        case .untuned(let cache?): "not tuned (defaults; run `quiver tune` to tune, cache \(cache))"
        case .untuned(nil): "not tuned (defaults; tuning cache disabled)"
        case let .stale(cache, tunedAt): "stale tuning from \(tunedAt) ignored: kernels changed since (defaults; re-run `quiver tune`, cache \(cache))"
        case let .ignored(_, warning): "defaults: \(warning)"
        case .callerConfig: "kernel parameters given by the caller"
        }
    }
}

extension TuningCache {
    /// The tuned parameters for `device` (nil: use the defaults) and how they were found.
    /// An entry the device cannot run is ignored with a warning.
    public func resolve(for device: OpenCLDevice) -> (kernels: TunedKernels?, status: TuningStatus) {
        switch lookup(TuningKey.Device(device)) {
        case .untuned:
            return (nil, .untuned(cache: path))
        case .stale(let entry):
            return (nil, .stale(cache: path, tunedAt: entry.tunedAt))
        case .unusable(let why):
            return (nil, .ignored(cache: path, warning: why))
        case .tuned(let entry):
            if let problem = entry.kernels.problem(on: device) {
                return (nil, .ignored(cache: path, warning: "tuning cache \(path): the entry for \(device.name) is ignored: "
                    + "\(problem), more than the device allows. Run `quiver tune` again"))
            }
            return (entry.kernels, .tuned(cache: path, tunedAt: entry.tunedAt, mode: entry.mode))
        }
    }
}
