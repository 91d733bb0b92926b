import CVectorMath
import QuiverCore

/// Elementwise kernels on raw float ranges, shared by `add`, `activate` and the GEMM epilogue.
enum Elementwise {
    /// `out[i] = activation(x[i] + addend[i])` (or `activation(x[i])` without an addend) for
    /// `i < count`. `out` may be the same memory as `x` or `addend`: each element is read before
    /// it is written.
    static func apply(_ activation: Activation, _ x: UnsafePointer<Float>, adding addend: UnsafePointer<Float>?,
                      into out: UnsafeMutablePointer<Float>, count: Int) {
        switch activation {
        case .identity: map(x, addend, out, count) { $0 }
        case .relu: map(x, addend, out, count) { $0.replacing(with: 0, where: $0 .< 0) }
        default:
            // CVectorMath runs the same formulas compiled for AVX-512 or AVX2+FMA; -2 means this
            // CPU has neither, so the portable Swift SIMD versions below run instead.
            if qvm_activate(code(activation), x, addend, out, count) == 0 { return }
            applyPortable(activation, x, adding: addend, into: out, count: count)
        }
    }

    /// `apply` in Swift SIMD only (baseline x86-64 / other CPUs), for CPUs without AVX2+FMA.
    static func applyPortable(_ activation: Activation, _ x: UnsafePointer<Float>, adding addend: UnsafePointer<Float>?,
                              into out: UnsafeMutablePointer<Float>, count: Int) {
        switch activation {
        case .identity: map(x, addend, out, count) { $0 }
        case .relu: map(x, addend, out, count) { $0.replacing(with: 0, where: $0 .< 0) }
        case .gelu: map(x, addend, out, count) { VectorMath.gelu($0) }
        case .geluTanh: map(x, addend, out, count) { VectorMath.geluTanh($0) }
        case .sigmoid: map(x, addend, out, count) { VectorMath.sigmoid($0) }
        case .tanh: map(x, addend, out, count) { VectorMath.tanh($0) }
        }
    }

    /// The activation's code in CVectorMath (and the OpenCL kernels).
    static func code(_ activation: Activation) -> Int32 {
        switch activation {
        case .identity: 0
        case .relu: 1
        case .gelu: Int32(QVM_GELU)
        case .geluTanh: Int32(QVM_GELU_TANH)
        case .sigmoid: Int32(QVM_SIGMOID)
        case .tanh: Int32(QVM_TANH)
        }
    }

    /// Relative cost of one element, in simple float operations, for `Parallel` chunking.
    static func cost(_ activation: Activation) -> Int {
        switch activation {
        case .identity, .relu: 1
        case .gelu, .geluTanh, .sigmoid, .tanh: 24
        }
    }

    @inline(__always)
    private static func map(_ x: UnsafePointer<Float>, _ addend: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>,
                            _ count: Int, _ f: (V16) -> V16) {
        let full = count & ~15
        var i = 0
        if let addend {
            while i < full {
                VectorMath.store(f(VectorMath.load(x + i) + VectorMath.load(addend + i)), out + i)
                i += 16
            }
            if i < count {
                let n = count - i
                let v = VectorMath.load(x + i, n, fill: 0) + VectorMath.load(addend + i, n, fill: 0)
                VectorMath.store(f(v), out + i, n)
            }
        } else {
            while i < full {
                VectorMath.store(f(VectorMath.load(x + i)), out + i)
                i += 16
            }
            if i < count {
                let n = count - i
                VectorMath.store(f(VectorMath.load(x + i, n, fill: 0)), out + i, n)
            }
        }
    }
}

extension CPUBackend {
    /// `out = a + b`, elementwise; `out` may be `a` or `b`.
    public func add(_ a: DeviceTensor, _ b: DeviceTensor, into out: DeviceTensor) throws {
        try OpChecks.elementwise("add", inputs: [("a", a), ("b", b)], out: out)
        let (ta, tb, to) = (try cpu(a, "add"), try cpu(b, "add"), try cpu(out, "add"))
        try elementwise(ta.floats, adding: tb.floats, .identity, into: to.floats, count: to.shape.count)
    }

    /// `out = activation(x)`, elementwise; `out` may be `x`.
    public func activate(_ x: DeviceTensor, _ activation: Activation, into out: DeviceTensor) throws {
        try OpChecks.elementwise("activate", inputs: [("x", x)], out: out)
        let (tx, to) = (try cpu(x, "activate"), try cpu(out, "activate"))
        try elementwise(tx.floats, adding: nil, activation, into: to.floats, count: to.shape.count)
    }

    /// Runs `Elementwise.apply` over `count` elements in chunks of whole vectors, on all threads.
    private func elementwise(_ x: UnsafePointer<Float>, adding y: UnsafePointer<Float>?, _ activation: Activation,
                             into out: UnsafeMutablePointer<Float>, count: Int) throws {
        let blocks = (count + 1023) / 1024
        parallel.forEach(blocks, costPerItem: 1024 * Elementwise.cost(activation)) { range in
            let start = range.lowerBound * 1024
            let end = min(range.upperBound * 1024, count)
            Elementwise.apply(activation, x + start, adding: y.map { $0 + start }, into: out + start, count: end - start)
        }
    }
}
