import ArgumentParser
import Dispatch
import Foundation
import QuiverRuntime

/// Options of `quiver bench --suite gpu` (see `GPUSuite`).
struct GPUSuiteOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Suite sizes: full (1M and 10M × 384 catalogs, the GPU host workload) or small (PoCL/CI, under a minute).", valueName: "full|small"))
    var size: GPUSuitePlan.Size = .full
    @Option(help: ArgumentHelp("Comma-separated sections to run (device facts are always collected).", valueName: "gemm,scoring,encode,search"))
    var sections: String?
    @Option(help: "FP32 peak of the device in GFLOP/s (overrides the table of known devices).")
    var peakGflops: Double?
    @Option(help: "Memory bandwidth of the device in GB/s (overrides the table of known devices).")
    var peakBandwidth: Double?
    @Option(help: "Folder for the generated catalogs (--size full needs ~23 GB free; default: the temp folder).")
    var scratch: String?

    func plan(seed: UInt64) throws -> GPUSuitePlan {
        var plan = GPUSuitePlan.preset(size, seed: seed)
        if let sections {
            plan.sections = Set(try sections.split(separator: ",").map { name in
                guard let s = GPUSuitePlan.Section(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else {
                    throw ValidationError("unknown section '\(name)'; use any of " + GPUSuitePlan.Section.allCases.map(\.rawValue).joined(separator: ","))
                }
                return s
            })
        }
        return plan
    }

    func validate(backend: String?, model: String?) throws {
        if let backend, backend.lowercased() != "opencl" {
            throw ValidationError("the GPU suite runs on the OpenCL backend (checked against the CPU backend); pick the device with --device")
        }
        for (name, value) in [("--peak-gflops", peakGflops), ("--peak-bandwidth", peakBandwidth)] {
            if let value, !(value > 0) { throw ValidationError("\(name) must be positive") }
        }
        if try plan(seed: 1).sections.contains(.encode), model == nil {
            throw ValidationError("the encode section needs a text model: pass --model DIR (all-MiniLM-L6-v2), or leave it out with --sections gemm,scoring,search")
        }
    }
}

extension GPUSuitePlan.Size: ExpressibleByArgument {}

/// Runs the GPU suite for `quiver bench --suite gpu`, writing --json / --report as it goes.
enum GPUSuiteCommand {
    static func run(options: GPUSuiteOptions, model: String?, seed: UInt64, device: String?, json: String?, reports: [String]) throws {
        let env = ProcessInfo.processInfo.environment
        let selection = try BackendFactory.make(.opencl, device: DeviceSelector.resolve(flag: device, environment: env))
        let backend = selection.backend
        Log.info("backend: opencl on \(backend.device.name) (\(selection.reason)); reference: cpu")
        let suiteOptions = GPUSuite.Options(plan: try options.plan(seed: seed), model: model, peakGFLOPS: options.peakGflops,
                                            peakGBps: options.peakBandwidth, scratch: options.scratch)
        let suite = try GPUSuite(device: backend, reference: try BackendFactory.make(.cpu).backend, options: suiteOptions) { Log.info($0) }
        let save = { (doc: GPUSuiteDocument) throws in
            if let json { try doc.json().write(to: URL(fileURLWithPath: json), options: .atomic) }
            for path in reports { try GPUSuiteReport.write(doc, to: path) }
        }
        let outcome = ResultBox()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { outcome.result = .success(try await suite.run(save: save)) } catch { outcome.result = .failure(error) }
            done.signal()
        }
        done.wait()
        let doc = try outcome.result!.get()
        print(GPUSuiteReport.markdown(doc), terminator: "")
    }

    private final class ResultBox: @unchecked Sendable {
        var result: Result<GPUSuiteDocument, any Error>?
    }
}
