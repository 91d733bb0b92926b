import QuiverRuntime

/// Short forms for moving test data on and off a backend.
extension ComputeBackend {
    public func f32(_ shape: Shape, _ values: [Float]) throws -> DeviceTensor {
        try tensor(Tensor(shape: shape, floats: values))
    }

    public func i32(_ shape: Shape, _ values: [Int32]) throws -> DeviceTensor {
        try tensor(Tensor(shape: shape, int32s: values))
    }

    public func zeros(_ shape: Shape, _ dtype: DType = .f32) throws -> DeviceTensor {
        try buffer(shape, dtype)
    }

    /// The tensor's values as Float (f16 widened).
    public func values(_ t: DeviceTensor) throws -> [Float] {
        try download(t).floats()
    }
}

extension Array where Element == Float {
    public var doubles: [Double] { map(Double.init) }
}
