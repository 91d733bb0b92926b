import Foundation
import QuiverCore
import QuiverOpenCL
import Testing

/// A test failure with a message (thrown so the test fails with it).
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// The OpenCL device and backend the tests run on. Missing OpenCL fails the tests with an
/// explanation, unless QUIVER_ALLOW_NO_OPENCL=1 (then `backend()` returns nil and tests return).
enum TestDevice {
    static let allowMissing = ProcessInfo.processInfo.environment["QUIVER_ALLOW_NO_OPENCL"] == "1"
    /// One cache directory per test process, so the shared backend starts from an empty disk cache.
    static let cacheDirectory = NSTemporaryDirectory() + "quiver-opencl-tests-\(getpid())"

    static let device: Result<OpenCLDevice?, any Error> = Result {
        let devices: [OpenCLDevice]
        do {
            devices = try OpenCLDiscovery.devices()
        } catch {
            if allowMissing { return nil }
            throw TestFailure("OpenCL is unavailable: \(error). Set QUIVER_ALLOW_NO_OPENCL=1 to skip the OpenCL tests.")
        }
        let wanted = Int(ProcessInfo.processInfo.environment["QUIVER_OPENCL_DEVICE"] ?? "") ?? 0
        guard devices.indices.contains(wanted) else {
            if allowMissing { return nil }
            let icds = OpenCLDiscovery.icdFiles()
            let icdText: String = icds.isEmpty ? "none in \(OpenCLDiscovery.icdDirectory())" : icds.joined(separator: ", ")
            throw TestFailure("no OpenCL device #\(wanted) (found \(devices.count)); ICD files: \(icdText). "
                + "Install a driver (pocl-opencl-icd for CPUs) or set QUIVER_ALLOW_NO_OPENCL=1 to skip the OpenCL tests.")
        }
        return devices[wanted]
    }

    /// Untuned (`tuning: .disabled`): the tests exercise the defaults whatever the user's tuning cache holds.
    static let shared: Result<OpenCLBackend?, any Error> = Result {
        guard let d = try device.get() else { return nil }
        return try OpenCLBackend(device: d, options: .init(cacheDirectory: cacheDirectory, tuning: .disabled))
    }

    /// A backend whose buffers are split above `maxAllocationBytes`.
    static let splitting: Result<OpenCLBackend?, any Error> = Result {
        guard let d = try device.get() else { return nil }
        return try OpenCLBackend(device: d, options: .init(maxAllocationBytes: 4096, cacheDirectory: cacheDirectory, tuning: .disabled))
    }

    /// The shared backend, or nil when OpenCL is absent and QUIVER_ALLOW_NO_OPENCL=1.
    static func backend() throws -> OpenCLBackend? { try shared.get() }
    static func splittingBackend() throws -> OpenCLBackend? { try splitting.get() }
}

/// Expects |got - want| ≤ atol + rtol·|want| elementwise, reporting the worst element.
func expectClose(_ got: [Float], _ want: [Double], atol: Double = 1e-4, rtol: Double = 1e-4, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    guard got.count == want.count else {
        Issue.record(Comment(rawValue: "\(what): \(got.count) values, expected \(want.count)"), sourceLocation: sourceLocation)
        return
    }
    var worst = 0.0, worstIndex = -1
    for i in got.indices {
        let g = Double(got[i])
        let excess = abs(g - want[i]) - (atol + rtol * abs(want[i]))
        if !g.isFinite || excess > worst { worst = g.isFinite ? excess : .infinity; worstIndex = i }
    }
    if worstIndex >= 0 {
        let message: String = "\(what): element \(worstIndex) is \(got[worstIndex]), expected \(want[worstIndex]) "
            + "(tolerance \(atol) + \(rtol)·|x|)"
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }
}
