import Foundation
import QuiverCore
import QuiverCPU
import QuiverOpenCL

/// Times kernel parameter variants on one OpenCL device and picks the fastest correct one per
/// kernel family (`quiver tune`).
///
/// For each family (GEMM, attention, top-k) the tuner builds its shapes' inputs once on the
/// device (seeded from the shape, so every run draws the same data) and the reference answer
/// on `reference` (the CPU backend), then for each variant in the fixed order of `TuneSpace`:
/// 1. skips it when the device cannot run it (work-group size, local memory, build failure);
/// 2. runs it once (the build and the warm-up) and checks the output against the reference:
///    a variant whose output is wrong is rejected and never timed or chosen;
/// 3. times `timedRuns` runs after `warmupRuns` more (each run enqueued, then waited for) and
///    keeps the median; timing stops after one run that is `slowCutoff` × the default's median.
/// See `TuneSelection` for how the winner is chosen. Nothing is written anywhere: the caller
/// stores the result (`entry(for:)`, `TuningCache.store`), so an interrupted run changes nothing.
public final class Tuner {
    public struct Options: Sendable {
        public var quick: Bool
        /// Timed runs per variant and shape (the median is kept).
        public var timedRuns: Int
        /// Untimed runs after the checked one, before timing.
        public var warmupRuns: Int
        /// Stop timing a variant after one run this many times slower than the default.
        public var slowCutoff: Double
        /// Seeds the input data (with the shape).
        public var seed: UInt64

        public init(quick: Bool, timedRuns: Int? = nil, warmupRuns: Int? = nil, slowCutoff: Double = 3,
                    seed: UInt64 = 0x5155_4956_4552_0001) {
            self.quick = quick
            self.timedRuns = timedRuns ?? (quick ? 3 : 5)
            self.warmupRuns = warmupRuns ?? (quick ? 0 : 1)
            self.slowCutoff = slowCutoff
            self.seed = seed
        }
    }

    /// Reported after each variant × shape.
    public struct Progress: Sendable {
        public var done: Int
        /// Grows by the shapes of the top-k combination when one is tried.
        public var total: Int
        public var kernel: TuneKernel
        public var shape: TuneShape
        public var variant: String
    }

    public let options: Options
    /// The shapes, in the order they are tuned (grouped by family in `TuneKernel.allCases` order).
    public let shapes: [TuneShape]
    let backend: OpenCLBackend
    let reference: any ComputeBackend
    let variants: [TuneKernel: [TuneVariant]]

    /// A tuner over explicit shapes and variants (tests use tiny shapes and injected variants).
    /// `backend` should not load tuned parameters (`Options.tuning = .disabled`): its defaults are the baseline.
    package init(backend: OpenCLBackend, reference: any ComputeBackend, shapes: [TuneShape],
                 variants: [TuneKernel: [TuneVariant]], options: Options) {
        self.backend = backend
        self.reference = reference
        self.shapes = TuneKernel.allCases.flatMap { k in shapes.filter { $0.kernel == k } }
        self.variants = variants
        self.options = options
    }

    /// The standard tuner for the device `selector` names (`--device`; nil: the first GPU, else
    /// the first device): `TuneShape.standard` and `TuneSpace` around the device's defaults, the
    /// CPU backend as the reference. Compiled variants go to the usual kernel binary cache.
    public static func standard(device selector: DeviceSelector?, options: Options) throws -> Tuner {
        let device = try BackendFactory.pick(selector, from: try OpenCLDiscovery.devices(), requireGPU: false)
        let backend = try OpenCLBackend(device: device, options: .init(tuning: .disabled))
        let defaults = backend.kernelConfig
        let variants = Dictionary(uniqueKeysWithValues: TuneKernel.allCases.map {
            ($0, TuneSpace.variants($0, defaults: defaults, quick: options.quick))
        })
        return Tuner(backend: backend, reference: CPUBackend(), shapes: TuneShape.standard(quick: options.quick),
                     variants: variants, options: options)
    }

    /// "name (platform)".
    public var deviceDescription: String { "\(backend.openCLDevice.name) (\(backend.openCLDevice.platformName))" }

    /// Variant × shape evaluations planned (before any top-k combination).
    public var plannedEvaluations: Int {
        TuneKernel.allCases.reduce(0) { sum, k in sum + (variants[k]?.count ?? 0) * shapes.filter { $0.kernel == k }.count }
    }

    /// Runs every family that has shapes and variants. Throws only when the inputs or the
    /// reference cannot be prepared (e.g. out of memory); a variant's failure is an outcome.
    public func run(progress: @escaping (Progress) -> Void = { _ in }) throws -> TuneReport {
        let started = Date()
        let load = LoadGenerator.loadAverage()
        var tracker = ProgressTracker(total: plannedEvaluations, report: progress)
        var families: [TuneFamilyResult] = []
        for kernel in TuneKernel.allCases {
            let familyShapes = shapes.filter { $0.kernel == kernel }
            guard let list = variants[kernel], !list.isEmpty, !familyShapes.isEmpty else { continue }
            families.append(try tune(kernel, shapes: familyShapes, variants: list, tracker: &tracker))
        }
        let device = backend.openCLDevice
        return TuneReport(
            device: device.name, platform: "\(device.platformName) (\(device.platformVersion))",
            key: TuningKey(device: TuningKey.Device(device), kernelSourceHash: KernelSourceHash.current() ?? "unreadable"),
            mode: options.quick ? "quick" : "full", startedAt: ISO8601DateFormatter().string(from: started),
            seconds: Date().timeIntervalSince(started), timedRuns: options.timedRuns,
            loadAverage: [load, LoadGenerator.loadAverage()].compactMap { $0 }, families: families,
            cachePath: nil, entry: nil)
    }

    /// The cache entry for `report`: each family's chosen parameters (none where the default won).
    public func entry(for report: TuneReport) -> TuningEntry {
        let tuned = report.families.compactMap(\.tuned)
        let kernels = TunedKernels(gemm: tuned.compactMap(\.gemm).first, attention: tuned.compactMap(\.attention).first,
                                   topK: tuned.compactMap(\.topK).first)
        return TuningEntry(key: report.key, kernels: kernels, tunedAt: report.startedAt, mode: report.mode)
    }

    // MARK: - One family

    private func tune(_ kernel: TuneKernel, shapes: [TuneShape], variants list: [TuneVariant],
                      tracker: inout ProgressTracker) throws -> TuneFamilyResult {
        let cases = try shapes.map { try TuneCases.make($0, device: backend, reference: reference, seed: seed(for: $0)) }
        let defaultIndex = list.firstIndex(where: \.isDefault) ?? 0
        // The default first, so its medians are the cut-off baselines of the others.
        let order = [defaultIndex] + list.indices.filter { $0 != defaultIndex }
        var results = [TuneVariantResult?](repeating: nil, count: list.count)
        var baselines: [Double?] = Array(repeating: nil, count: cases.count)
        for i in order {
            let r = evaluate(list[i], cases: cases, baselines: baselines, tracker: &tracker)
            if i == defaultIndex { baselines = r.outcomes.map(\.medianMs) }
            results[i] = r
        }
        var evaluated = list
        var family = TuneFamilyResult(kernel: kernel, shapes: shapes, variants: results.compactMap { $0 }, chosen: nil,
                                      defaultIndex: defaultIndex, tuned: nil)
        TuneSelection.score(&family)
        if kernel == .topk, let config = TuneSelection.topKCombination(family, defaults: list[defaultIndex].config.topK),
           !evaluated.contains(where: { $0.config.topK == config }) {
            var combined = TuneVariant(kernel: .topk, config: list[defaultIndex].config, isDefault: false)
            combined.config.topK = config
            tracker.total += cases.count
            var r = evaluate(combined, cases: cases, baselines: baselines, tracker: &tracker)
            r.isCombination = true
            family.variants.append(r)
            evaluated.append(combined)
            TuneSelection.score(&family)
        }
        family.chosen = TuneSelection.choose(family)
        if let chosen = family.chosen, !evaluated[chosen].isDefault { family.tuned = evaluated[chosen].tuned }
        return family
    }

    private func seed(for shape: TuneShape) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(shape)".utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return options.seed ^ h
    }

    // MARK: - One variant

    private func evaluate(_ variant: TuneVariant, cases: [any TuneCase], baselines: [Double?],
                          tracker: inout ProgressTracker) -> TuneVariantResult {
        var outcomes: [TuneOutcome] = []
        var blocked: TuneOutcome?   // after one shape fails, the rest are not run (it can never be chosen)
        for (i, c) in cases.enumerated() {
            if let blocked {
                outcomes.append(blocked)
            } else {
                let o = measure(variant, c, baseline: baselines[i])
                if o.status != .measured {
                    blocked = TuneOutcome(status: o.status, reason: "not run: \(o.status.rawValue) on \(c.shape)")
                }
                outcomes.append(o)
            }
            tracker.advance(kernel: variant.kernel, shape: c.shape, variant: variant.label)
        }
        return TuneVariantResult(parameters: variant.parameters, label: variant.label, isDefault: variant.isDefault,
                                 isCombination: false, outcomes: outcomes, score: nil)
    }

    private func measure(_ variant: TuneVariant, _ c: any TuneCase, baseline: Double?) -> TuneOutcome {
        if let why = c.preflight(variant.config, device: backend.openCLDevice) { return .skipped(why) }
        let be: OpenCLBackend
        do { be = try backend.variant(kernels: variant.config, extraDefines: variant.extraDefines) } catch {
            return .skipped("\(error)")
        }
        let check: TuneCheck
        let first: Double
        do {
            try c.reset()
            let start = DispatchTime.now().uptimeNanoseconds
            try c.run(on: be)
            try be.synchronize()
            first = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            check = try c.check()
        } catch {
            return Self.classify(error)
        }
        guard check.passed else {
            return TuneOutcome(status: .rejected, error: check.error, tolerance: check.tolerance,
                               reason: "wrong output: \(check.measure) = \(check.error), tolerance \(check.tolerance)",
                               firstRunMs: first)
        }
        var times: [Double] = []
        do {
            for _ in 0..<options.warmupRuns {
                try c.reset()
                try c.run(on: be)
                try be.synchronize()
            }
            for r in 0..<options.timedRuns {
                try c.reset()
                let start = DispatchTime.now().uptimeNanoseconds
                try c.run(on: be)
                try be.synchronize()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                if r == 0, let baseline, times[0] > options.slowCutoff * baseline { break }
            }
        } catch {
            return Self.classify(error)
        }
        return TuneOutcome(status: .measured, medianMs: TuneSelection.median(times), runsMs: times, error: check.error,
                           tolerance: check.tolerance, reason: nil, firstRunMs: first)
    }

    /// Build failures and configurations the compiled kernel cannot run are "skipped"; anything
    /// else (an OpenCL error at launch) is "failed".
    static func classify(_ error: Error) -> TuneOutcome {
        switch error {
        case QuiverError.kernelBuild(let kernel, _, let log):
            let first = log.split(separator: "\n").first(where: { $0.contains("error") }) ?? log.split(separator: "\n").first ?? ""
            return .skipped("\(kernel) does not build: \(first)")
        case QuiverError.invalidArgument(let message):
            return .skipped(message)
        default:
            return .failed("\(error)")
        }
    }
}

/// Counts evaluations for the progress callback.
struct ProgressTracker {
    var done = 0
    var total: Int
    let report: (Tuner.Progress) -> Void

    init(total: Int, report: @escaping (Tuner.Progress) -> Void) {
        self.total = total
        self.report = report
    }

    mutating func advance(kernel: TuneKernel, shape: TuneShape, variant: String) {
        done += 1
        report(Tuner.Progress(done: done, total: max(total, done), kernel: kernel, shape: shape, variant: variant))
    }
}
