import QuiverCore

/// Which backend the user asked for (`--backend` / `QUIVER_BACKEND`).
public enum BackendChoice: String, Sendable, CaseIterable {
    /// An OpenCL GPU when one exists, otherwise the CPU backend.
    case auto
    /// OpenBLAS + vectorized Swift on the host CPU.
    case cpu
    /// An OpenCL device (any type, PoCL's CPU device included).
    case opencl

    /// Parses a user-supplied name (case-insensitive); throws a message listing the valid names.
    public init(parsing text: String) throws {
        guard let choice = BackendChoice(rawValue: text.lowercased()) else {
            throw QuiverError.invalidArgument(
                "unknown backend '\(text)'; use one of: " + BackendChoice.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = choice
    }

    /// The flag value if given, else `QUIVER_BACKEND`, else `auto`.
    public static func resolve(flag: String?, environment: [String: String]) throws -> BackendChoice {
        if let flag { return try BackendChoice(parsing: flag) }
        if let env = environment["QUIVER_BACKEND"], !env.isEmpty { return try BackendChoice(parsing: env) }
        return .auto
    }
}

/// How the user named an OpenCL device (`--device` / `QUIVER_DEVICE`): a flat index as listed by
/// `quiver devices`, or a case-insensitive substring of the device or platform name.
public enum DeviceSelector: Sendable, Equatable, CustomStringConvertible {
    case index(Int)
    case name(String)

    public init(parsing text: String) {
        if let i = Int(text), i >= 0 { self = .index(i) } else { self = .name(text) }
    }

    /// The flag value if given, else `QUIVER_DEVICE`, else nil.
    public static func resolve(flag: String?, environment: [String: String]) -> DeviceSelector? {
        if let flag, !flag.isEmpty { return DeviceSelector(parsing: flag) }
        if let env = environment["QUIVER_DEVICE"], !env.isEmpty { return DeviceSelector(parsing: env) }
        return nil
    }

    public var description: String {
        switch self {
        case .index(let i): "index \(i)"
        case .name(let s): "'\(s)'"
        }
    }
}
