/// Element types a tensor can hold. `f16` is a storage type: arithmetic always runs in f32.
public enum DType: String, Sendable, CaseIterable, CustomStringConvertible {
    case f32, f16, i8, i32

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f32, .i32: 4
        case .f16: 2
        case .i8: 1
        }
    }

    public var description: String { rawValue }
}
