import ArgumentParser
import Foundation
import QuiverRuntime

/// `--backend` and `--device`, shared by every command that computes.
struct BackendOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Where to compute: auto (an OpenCL GPU if present, else cpu), cpu or opencl. Default: $QUIVER_BACKEND or auto.", valueName: "auto|cpu|opencl"))
    var backend: String?

    @Option(help: ArgumentHelp("OpenCL device: an index from `quiver devices` or part of its name. Default: $QUIVER_DEVICE.", valueName: "index|name"))
    var device: String?

    /// Creates the backend, reporting the choice on stderr. `cpuThreads`: threads of a CPU backend
    /// (nil: `QUIVER_THREADS` or every core).
    func select(cpuThreads: Int? = nil) throws -> BackendSelection {
        let env = ProcessInfo.processInfo.environment
        let choice = try BackendChoice.resolve(flag: backend, environment: env)
        let selection = try BackendFactory.make(choice, device: DeviceSelector.resolve(flag: device, environment: env),
                                                cpuThreads: cpuThreads)
        Log.info("backend: \(selection.backend.device.backend) on \(selection.backend.device.name) (\(selection.reason))")
        if let tuning = selection.kernelTuning { Log.info("kernels: \(tuning)") }
        for warning in selection.warnings { Log.info("warning: \(warning)") }
        return selection
    }
}

/// Messages for people go to stderr so stdout stays machine-readable.
enum Log {
    static func info(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
