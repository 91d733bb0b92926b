import Foundation
import QuiverRuntime

/// The backends every op test runs on. Created once per test process (OpenCL context creation and
/// kernel builds are expensive) and shared by all tests.
///
/// The OpenCL backend is required: with no OpenCL device the OpenCL cases fail, naming the problem,
/// unless `QUIVER_ALLOW_NO_OPENCL=1` is set (then they pass without running).
public enum TestBackends {
    public static let names = ["cpu", "opencl"]

    public struct NoOpenCL: Error, CustomStringConvertible {
        public let description: String
    }

    /// The backend named `name`, or nil when it is OpenCL, none exists, and that is allowed.
    public static func backend(_ name: String) throws -> (any ComputeBackend)? {
        switch name {
        case "cpu": return try cpu.get()
        default:
            switch openCL {
            case .success(let backend): return backend
            case .failure(let error):
                if ProcessInfo.processInfo.environment["QUIVER_ALLOW_NO_OPENCL"] == "1" { return nil }
                throw NoOpenCL(description: "OpenCL tests need an OpenCL device (install pocl-opencl-icd), or set QUIVER_ALLOW_NO_OPENCL=1 to skip them: \(error)")
            }
        }
    }

    static let cpu: Result<any ComputeBackend, Error> = Result { try BackendFactory.make(.cpu).backend }

    static let openCL: Result<any ComputeBackend, Error> = Result {
        try BackendFactory.make(.opencl, device: DeviceSelector.resolve(flag: nil, environment: ProcessInfo.processInfo.environment)).backend
    }
}
