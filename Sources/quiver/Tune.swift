import ArgumentParser
import Foundation
import QuiverRuntime

/// `quiver tune`: times kernel parameter variants on an OpenCL device and saves the fastest
/// correct ones in the tuning cache, which every later OpenCL backend on that device loads.
struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tune the GEMM, attention and top-k kernels for an OpenCL device and save the result in the tuning cache.",
        discussion: """
            Each variant is checked against the CPU backend before it is timed (median of several runs); a variant \
            with wrong output is rejected. The best parameters per kernel family are stored per device (name, vendor, \
            driver, kernel sources) in $QUIVER_TUNING_CACHE, else ~/.cache/quiver/tuning.json ($XDG_CACHE_HOME or \
            $QUIVER_CACHE_DIR move it). The cache is only written at the end, atomically.
            """)

    @Option(help: ArgumentHelp("OpenCL device: an index from `quiver devices` or part of its name. Default: $QUIVER_DEVICE, else the first GPU, else the first device.", valueName: "index|name"))
    var device: String?

    @Flag(help: "Try a small subset of variants on smaller shapes (seconds instead of minutes).")
    var quick = false

    @Option(help: ArgumentHelp("Tuning cache file to update. Default: $QUIVER_TUNING_CACHE, else ~/.cache/quiver/tuning.json.", valueName: "file"))
    var cache: String?

    @Option(help: ArgumentHelp("Also write every variant's outcome and timings as JSON to this file.", valueName: "file"))
    var json: String?

    @Option(help: "Timed runs per variant and shape (the median is kept). Default: 3 with --quick, else 5.")
    var runs: Int?

    @Flag(help: "Do not write the tuning cache (print the table only).")
    var noSave = false

    @Flag(help: "Remove this device's entry from the tuning cache (back to the defaults) and exit.")
    var reset = false

    func validate() throws {
        if let runs, runs < 1 { throw ValidationError("--runs must be at least 1") }
    }

    func run() throws {
        let env = ProcessInfo.processInfo.environment
        let selector = DeviceSelector.resolve(flag: device, environment: env)
        let path = noSave ? nil : try TuneStore.path(flag: cache, environment: env)
        if reset {
            let cachePath = try path ?? TuneStore.path(flag: cache, environment: env)
            let (name, removed) = try TuneStore.reset(device: selector, path: cachePath)
            Log.info(removed > 0 ? "removed the tuning of \(name) from \(cachePath); it uses the defaults again"
                                 : "\(name) has no entry in \(cachePath); nothing to reset")
            return
        }
        let tuner = try Tuner.standard(device: selector, options: .init(quick: quick, timedRuns: runs))
        Log.info("tuning \(tuner.deviceDescription): \(tuner.plannedEvaluations) variant × shape runs (\(quick ? "quick" : "full"))"
            + (path.map { ", cache \($0)" } ?? ", not saving"))
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if let load = LoadGenerator.loadAverage(), load > 0.5 * Double(cores) {
            Log.info(String(format: "warning: the machine is busy (1-minute load %.1f on %d cores): timings are noisy and may pick "
                + "another winner than on an idle machine; tune when the device is otherwise idle", load, cores))
        }
        let bar = ProgressBar(label: "tune", unit: "runs")
        var report = try tuner.run { p in
            bar.update(done: p.done, fraction: Double(p.done) / Double(p.total),
                       detail: String("\(p.kernel.rawValue) \(p.shape): \(p.variant)".prefix(60)))
        }
        bar.finish(done: report.families.reduce(0) { $0 + $1.variants.count * $1.shapes.count })
        for f in report.families where f.variants[f.defaultIndex].outcomes.contains(where: { $0.status == .rejected || $0.status == .failed }) {
            let why = f.variants[f.defaultIndex].outcomes.compactMap(\.reason).first ?? ""
            Log.info("warning: the default \(f.kernel.rawValue) parameters do not work on this device: \(why)")
        }
        if let path {
            if let warning = try TuneStore.save(&report, from: tuner, to: path) { Log.info("warning: \(warning)") }
        }
        print(report.table())
        if let json {
            do {
                try report.json().write(to: URL(fileURLWithPath: json), options: .atomic)
            } catch {
                throw QuiverError.io(path: json, detail: "cannot write the JSON report: \(error.localizedDescription)")
            }
        }
        Log.info(String(format: "tuned in %.1f s; ", report.seconds)
            + (path.map { "saved to \($0) (`quiver tune --reset` to go back to the defaults)" } ?? "not saved (--no-save)"))
    }
}
