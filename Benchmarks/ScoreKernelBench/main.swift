// Score GEMM for a catalog tile: cblas_sgemm (f32) vs packing + qsk_bf16_scores (bf16 products,
// f32 sums), same shapes, same run, 1 and 2 threads. One JSON line per configuration, then the
// ratios. Figures count 2·Q·N·D flops and include packing (queries and items) for bf16.
//
//   OPENBLAS_CORETYPE=SkylakeX OPENBLAS_THREAD_TIMEOUT=10 ScoreKernelBench [--shape 1024x16384x384]
//       [--repeats 7] [--chunk 1024]
//
// --chunk: item rows each thread packs and then scores per call (the CPU scorer's block size);
// a value ≥ N packs a thread's whole share first.
//
// Configurations run in interleaved rounds, so load from other processes (shared machine) falls on
// all of them alike; /proc/loadavg is printed before and after.
import CBLAS
import CScoreKernels
import Dispatch
import Foundation

var (qCount, nCount, dim, repeats, chunk) = (1024, 16384, 384, 7, 1024)
var args = Array(CommandLine.arguments.dropFirst())
while args.count >= 2 {
    let (flag, value) = (args.removeFirst(), args.removeFirst())
    if flag == "--repeats" { repeats = Int(value) ?? repeats }
    if flag == "--chunk" { chunk = Int(value) ?? chunk }
    if flag == "--shape" {
        let dims = value.split(separator: "x").compactMap { Int($0) }
        if dims.count == 3 { (qCount, nCount, dim) = (dims[0], dims[1], dims[2]) }
    }
}
guard qsk_bf16_supported() != 0 else {
    FileHandle.standardError.write(Data("ScoreKernelBench: this CPU lacks AVX512_BF16\n".utf8))
    exit(1)
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

/// Inputs and buffers of one shape; immutable after init, so threads share it.
final class Workload: @unchecked Sendable {
    let (q, n, d): (Int, Int, Int)
    let queries, itemsF32: UnsafeMutablePointer<Float>
    let itemsF16: UnsafeMutablePointer<UInt16>
    let out: UnsafeMutablePointer<Float>
    let packedQueries, packedItems: UnsafeMutableRawPointer
    let panelBytes, chunk: Int

    init(q: Int, n: Int, d: Int, chunk: Int) {
        (self.q, self.n, self.d, self.chunk) = (q, n, d, max(16, chunk / 16 * 16))
        var rng = SystemRandomNumberGenerator()
        queries = .allocate(capacity: q * d)
        itemsF32 = .allocate(capacity: n * d)
        itemsF16 = .allocate(capacity: n * d)
        out = .allocate(capacity: q * n)
        for i in 0..<(q * d) { queries[i] = Float.random(in: -1...1, using: &rng) }
        for i in 0..<(n * d) {
            itemsF32[i] = Float.random(in: -1...1, using: &rng)
            itemsF16[i] = Float16(itemsF32[i]).bitPattern
        }
        out.initialize(repeating: 0, count: q * n)
        packedQueries = .allocate(byteCount: qsk_queries_packed_bytes(Int32(q), Int32(d)), alignment: 64)
        packedItems = .allocate(byteCount: qsk_items_packed_bytes(Int32(n), Int32(d)), alignment: 64)
        panelBytes = qsk_items_packed_bytes(16, Int32(d))
    }

    /// out = queries · itemsᵀ in f32 with OpenBLAS on `threads` threads.
    func sgemm(threads: Int) {
        openblas_set_num_threads(Int32(threads))
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(q), Int32(n), Int32(d), 1,
                    queries, Int32(d), itemsF32, Int32(d), 0, out, Int32(n))
    }

    /// Packs the queries, then each thread takes its share of the items and, `chunk` rows at a
    /// time (a multiple of 16), packs them (from f32 or f16) and scores them into its columns of
    /// `out` while the packed rows are still in cache.
    func bf16(threads: Int, half: Bool) {
        precondition(qsk_pack_queries(queries, Int32(q), Int32(d), Int32(d), packedQueries) == 0)
        let panels = (n + 15) / 16
        nonisolated(unsafe) let codes = UnsafeMutablePointer<Int32>.allocate(capacity: threads)
        defer { codes.deallocate() }
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let first = panels * t / threads * 16, end = min(n, panels * (t + 1) / threads * 16)
            var code: Int32 = 0
            for start in stride(from: first, to: end, by: chunk) where code == 0 {
                let count = Int32(min(chunk, end - start)), panel = packedItems + start / 16 * panelBytes
                code = half
                    ? qsk_pack_items_f16(itemsF16 + start * d, count, Int32(d), Int32(d), panel)
                    : qsk_pack_items_f32(itemsF32 + start * d, count, Int32(d), Int32(d), panel)
                if code == 0 { code = qsk_bf16_scores(packedQueries, Int32(q), panel, count, Int32(d), out + start, Int32(n)) }
            }
            codes[t] = code
        }
        for t in 0..<threads { precondition(codes[t] == 0, "qsk returned \(codes[t])") }
    }
}

let work = Workload(q: qCount, n: nCount, d: dim, chunk: chunk)

struct Config { var name: String; var threads: Int; var body: () -> Void }
var configs: [Config] = []
for threads in [1, 2] {
    configs.append(Config(name: "sgemm", threads: threads) { work.sgemm(threads: threads) })
    configs.append(Config(name: "bf16 (pack f32)", threads: threads) { work.bf16(threads: threads, half: false) })
    configs.append(Config(name: "bf16 (pack f16)", threads: threads) { work.bf16(threads: threads, half: true) })
}

// Sanity check before timing: bf16 scores agree with sgemm's to bf16 precision (relative to ‖q‖‖x‖).
do {
    work.sgemm(threads: 1)
    let exact = Array(UnsafeBufferPointer(start: work.out, count: qCount * nCount))
    work.bf16(threads: 2, half: true)
    var worst: Float = 0
    for i in stride(from: 0, to: qCount * nCount, by: 997) {
        worst = max(worst, abs(work.out[i] - exact[i]) / Float(dim / 3))  // ‖q‖‖x‖ ≈ D/3 for U(-1, 1)
    }
    guard worst < 1e-2 else {
        FileHandle.standardError.write(Data("ScoreKernelBench: bf16 scores differ from sgemm by \(worst)\n".utf8))
        exit(1)
    }
}

let loadBefore = loadAverage()
for config in configs { config.body() }  // warm-up: page faults, OpenBLAS thread start-up
var times = [[Double]](repeating: [], count: configs.count)
for _ in 0..<repeats {
    for (index, config) in configs.enumerated() {
        let start = DispatchTime.now().uptimeNanoseconds
        config.body()
        times[index].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}

let flops = 2.0 * Double(qCount) * Double(nCount) * Double(dim)
func gflops(_ t: [Double]) -> (median: Double, best: Double) {
    let sorted = t.sorted()
    return (flops / sorted[sorted.count / 2] / 1e9, flops / sorted[0] / 1e9)
}
var medians: [String: Double] = [:]
for (index, config) in configs.enumerated() {
    let g = gflops(times[index])
    medians["\(config.name)/\(config.threads)"] = g.median
    let fields: [String: Any] = [
        "what": config.name, "threads": config.threads, "shape": "\(qCount)x\(nCount)x\(dim)", "repeats": repeats,
        "gflops_median": (g.median * 10).rounded() / 10, "gflops_best": (g.best * 10).rounded() / 10,
        "core": String(cString: openblas_get_corename()),
    ]
    if let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]) {
        print(String(decoding: data, as: UTF8.self))
    }
}
for threads in [1, 2] {
    let base = medians["sgemm/\(threads)"]!
    for name in ["bf16 (pack f32)", "bf16 (pack f16)"] {
        print(String(format: "%@ / sgemm, %d thread(s): %.2fx (median)", name, threads, medians["\(name)/\(threads)"]! / base))
    }
}
print("load average: before \(loadBefore), after \(loadAverage())")
