// GEMM throughput of one configuration, printed as one JSON line per shape.
//
//   GEMMBench quiver-cpu     the CPU backend as the quiver CLI runs it (re-executes itself to pick
//                            OpenBLAS's best core type, threads = all cores)
//   GEMMBench quiver-opencl  the OpenCL backend on the first OpenCL device (or $QUIVER_DEVICE)
//   GEMMBench cblas          cblas_sgemm called directly, under whatever OPENBLAS_CORETYPE and
//                            OPENBLAS_NUM_THREADS the caller set (the harness tries them all)
//
// Options: --shapes 2048x2048x2048,256x200000x384t (a trailing t = B stored [N, K], multiplied
// transposed), --repeats N. Benchmarks/gemm/run.py drives all configurations and writes the table.
import CBLAS
import Foundation
import QuiverRuntime

struct Shape3 { var m, n, k: Int; var transposeB: Bool; var label: String }

func parseShapes(_ text: String) -> [Shape3] {
    text.split(separator: ",").compactMap { part in
        let t = part.hasSuffix("t")
        let dims = part.dropLast(t ? 1 : 0).split(separator: "x").compactMap { Int($0) }
        guard dims.count == 3 else { return nil }
        return Shape3(m: dims[0], n: dims[1], k: dims[2], transposeB: t, label: String(part))
    }
}

func time(repeats: Int, _ body: () throws -> Void) rethrows -> [Double] {
    try body()  // warm-up: kernel builds, first-touch page faults, thread start-up
    return try (0..<repeats).map { _ in
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

func report(_ what: String, _ shape: Shape3, _ times: [Double], extra: [String: String]) {
    let flops = 2.0 * Double(shape.m) * Double(shape.n) * Double(shape.k)
    let sorted = times.sorted()
    var fields: [String: Any] = [
        "what": what, "shape": shape.label, "repeats": times.count,
        "gflops_median": flops / sorted[sorted.count / 2] / 1e9, "gflops_best": flops / sorted[0] / 1e9,
    ]
    for (key, value) in extra { fields[key] = value }
    if let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) {
        print(String(decoding: data, as: UTF8.self))
    }
}

func randomFloats(_ count: Int) -> [Float] {
    var rng = SystemRandomNumberGenerator()
    return (0..<count).map { _ in Float.random(in: -1...1, using: &rng) }
}

var args = Array(CommandLine.arguments.dropFirst())
guard let mode = args.first else {
    FileHandle.standardError.write(Data("usage: GEMMBench quiver-cpu|quiver-opencl|cblas [--shapes S] [--repeats N]\n".utf8))
    exit(2)
}
var shapes = parseShapes("2048x2048x2048,256x200000x384t")
var repeats = 5
var i = 1
while i + 1 < args.count {
    if args[i] == "--shapes" { shapes = parseShapes(args[i + 1]) }
    if args[i] == "--repeats" { repeats = Int(args[i + 1]) ?? repeats }
    i += 2
}

do {
    switch mode {
    case "quiver-cpu", "quiver-opencl":
        if mode == "quiver-cpu" { OpenBLASEnvironment.reexecIfBeneficial() }
        let selection = try BackendFactory.make(mode == "quiver-cpu" ? .cpu : .opencl,
                                                device: DeviceSelector.resolve(flag: nil, environment: ProcessInfo.processInfo.environment))
        let backend = selection.backend
        let details = Dictionary(backend.device.details, uniquingKeysWith: { a, _ in a })
        for shape in shapes {
            let a = try backend.tensor(Tensor(shape: [shape.m, shape.k], floats: randomFloats(shape.m * shape.k)))
            let b = try backend.tensor(Tensor(shape: shape.transposeB ? [shape.n, shape.k] : [shape.k, shape.n],
                                              floats: randomFloats(shape.n * shape.k)))
            let c = try backend.buffer([shape.m, shape.n], .f32)
            let times = try time(repeats: repeats) {
                try backend.gemm(a, b, transposeB: shape.transposeB, bias: nil, activation: .identity, into: c)
                try backend.synchronize()
            }
            report(mode, shape, times, extra: [
                "device": backend.device.name,
                "core": details["openblas core"] ?? "", "threads": details["threads"] ?? "",
            ])
        }
    case "cblas":
        for shape in shapes {
            let a = randomFloats(shape.m * shape.k), b = randomFloats(shape.n * shape.k)
            var c = [Float](repeating: 0, count: shape.m * shape.n)
            let ldb = Int32(shape.transposeB ? shape.k : shape.n)
            let times = time(repeats: repeats) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, shape.transposeB ? CblasTrans : CblasNoTrans,
                            Int32(shape.m), Int32(shape.n), Int32(shape.k), 1, a, Int32(shape.k), b, ldb, 0, &c, Int32(shape.n))
            }
            report(mode, shape, times, extra: [
                "core": String(cString: openblas_get_corename()), "threads": String(openblas_get_num_threads()),
            ])
        }
    default:
        FileHandle.standardError.write(Data("unknown mode \(mode)\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("GEMMBench: \(error)\n".utf8))
    exit(1)
}
