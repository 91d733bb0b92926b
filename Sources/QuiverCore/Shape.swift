/// The dimensions of a tensor, outermost first (row-major storage).
public struct Shape: Hashable, Sendable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public let dims: [Int]

    public init(_ dims: [Int]) { self.dims = dims }
    public init(arrayLiteral elements: Int...) { self.dims = elements }

    public var rank: Int { dims.count }
    /// Number of elements (1 for a scalar shape `[]`).
    public var count: Int { dims.reduce(1, *) }
    public subscript(_ axis: Int) -> Int { dims[axis] }
    /// Size of the last axis (1 for a scalar).
    public var last: Int { dims.last ?? 1 }
    /// Number of rows when the tensor is viewed as a matrix `[rows, last]`: the product of all
    /// axes but the last (1 for a scalar or a vector).
    public var rows: Int { dims.dropLast().reduce(1, *) }
    /// Number of elements in one slice of the first axis (`count / dims[0]`).
    public var sliceCount: Int { dims.dropFirst().reduce(1, *) }

    public var description: String { "[" + dims.map(String.init).joined(separator: ", ") + "]" }
}
