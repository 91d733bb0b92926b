import QuiverCore

extension OpenCLBackend {
    /// Not built yet (in progress this session): the fused similarity + top-k kernels.
    public func similarityTopK(queries: DeviceTensor, tile: DeviceTensor, rowScale: DeviceTensor?, rowBias: DeviceTensor?,
                               firstRow: Int, exclusions: RowExclusions?, top: TopKLists) throws {
        throw QuiverError.backendUnavailable("similarityTopK is not implemented on OpenCL yet", hint: "use --backend cpu")
    }

    /// Device memory is separate from the host: tensors must be uploaded.
    public func view(_ host: Tensor) -> DeviceTensor? { nil }
}
