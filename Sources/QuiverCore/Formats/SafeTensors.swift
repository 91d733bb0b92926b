import Foundation

/// A `.safetensors` file, memory-mapped read-only.
///
/// Layout (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
/// N bytes of JSON `{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": …}`,
/// then the data; offsets are relative to the end of the header. Opening parses and validates the
/// header only (every byte range must lie inside the file and match its dtype and shape);
/// tensors are converted on request, touching only their own pages.
public final class SafeTensors: Sendable {
    /// Element types a safetensors file may declare.
    public enum StoredType: String, Sendable, CaseIterable {
        case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL

        public var size: Int {
            switch self {
            case .F64, .I64: 8
            case .F32, .I32: 4
            case .F16, .BF16, .I16: 2
            case .I8, .U8, .BOOL: 1
            }
        }
        var isFloat: Bool { self == .F64 || self == .F32 || self == .F16 || self == .BF16 }
    }

    /// One tensor's entry in the header. `byteRange` is absolute within the file.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let dtype: StoredType
        public let shape: Shape
        public let byteRange: Range<Int>
    }

    public let path: String
    /// Free-form `__metadata__` strings (empty when absent).
    public let metadata: [String: String]
    /// All tensors, in file order.
    public let entries: [Entry]
    private let index: [String: Int]
    private let file: MappedFile

    /// Maps and validates `path`. Throws `QuiverError.io` naming the file (and tensor) for a
    /// truncated file, a malformed header, an unknown dtype or an out-of-range byte range.
    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        guard file.byteCount >= 8 else {
            throw QuiverError.io(path: path, detail: "truncated safetensors file: \(file.byteCount) bytes, the 8-byte header length is missing")
        }
        let lengthBytes = file.bytes(0..<8)
        let headerLength = lengthBytes.loadUnaligned(as: UInt64.self).littleEndian
        guard headerLength <= UInt64(file.byteCount - 8) else {
            throw QuiverError.io(path: path, detail: "truncated or not a safetensors file: header length \(headerLength) exceeds the \(file.byteCount - 8) bytes after it")
        }
        let dataStart = 8 + Int(headerLength)
        let headerBytes = Data(file.bytes(8..<dataStart))
        let raw: RawHeader
        do {
            raw = try JSONDecoder().decode(RawHeader.self, from: headerBytes)
        } catch let error as QuiverError {
            throw QuiverError.io(path: path, detail: "bad safetensors header: \(error)")
        } catch {
            throw QuiverError.io(path: path, detail: "bad safetensors header (not the JSON safetensors writes): \(error)")
        }
        var entries: [Entry] = []
        for (name, e) in raw.tensors {
            guard let dtype = StoredType(rawValue: e.dtype) else {
                throw QuiverError.io(path: path, detail: "tensor '\(name)' has unknown dtype '\(e.dtype)' (known: \(StoredType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard e.data_offsets.count == 2, e.shape.allSatisfy({ $0 >= 0 }) else {
                throw QuiverError.io(path: path, detail: "tensor '\(name)': data_offsets must be [begin, end] and shape non-negative")
            }
            let (begin, end) = (e.data_offsets[0], e.data_offsets[1])
            let shape = Shape(e.shape)
            guard begin >= 0, begin <= end, end <= file.byteCount - dataStart else {
                throw QuiverError.io(path: path, detail: "tensor '\(name)': bytes \(begin)..<\(end) lie outside the \(file.byteCount - dataStart) data bytes (truncated file?)")
            }
            guard end - begin == shape.count * dtype.size else {
                throw QuiverError.io(path: path, detail: "tensor '\(name)': \(end - begin) bytes do not hold \(dtype.rawValue) \(shape) (\(shape.count * dtype.size) bytes)")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, byteRange: (dataStart + begin)..<(dataStart + end)))
        }
        entries.sort { ($0.byteRange.lowerBound, $0.name) < ($1.byteRange.lowerBound, $1.name) }
        self.entries = entries
        metadata = raw.metadata
        index = Dictionary(entries.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public var names: [String] { entries.map(\.name) }

    /// The entry named `name`, or nil.
    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The entry named `name`; throws naming the file and the key when it is absent.
    public func require(_ name: String) throws -> Entry {
        guard let e = entry(name) else {
            throw QuiverError.io(path: path, detail: "missing tensor '\(name)' (the file has \(entries.count) tensors)")
        }
        return e
    }

    /// The tensor's raw little-endian bytes, straight from the mapping (no copy). Valid while
    /// this object is alive.
    public func withBytes<R>(_ entry: Entry, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(file) { try body(file.bytes(entry.byteRange)) }
    }

    /// Tensor `name` as an f32 host tensor (F32 copied; F16, BF16, F64 converted).
    public func floatTensor(_ name: String) throws -> Tensor {
        let e = try require(name)
        guard e.dtype.isFloat else {
            throw QuiverError.io(path: path, detail: "tensor '\(name)' is \(e.dtype.rawValue), expected a float type (F32, F16, BF16, F64)")
        }
        let out = Tensor(zeros: e.shape, .f32)
        let dst = out.storage.pointer.assumingMemoryBound(to: Float.self)
        withBytes(e) { SafeTensors.convertFloats(e.dtype, $0, from: 0, count: e.shape.count, into: dst) }
        return out
    }

    /// Tensor `name` as an i32 host tensor (I64 narrowed with a range check; I32/I16/I8/U8/BOOL widened).
    public func int32Tensor(_ name: String) throws -> Tensor {
        let e = try require(name)
        let out = Tensor(zeros: e.shape, .i32)
        let dst = out.storage.pointer.assumingMemoryBound(to: Int32.self)
        let n = e.shape.count
        try withBytes(e) { src in
            for i in 0..<n {
                let v: Int64
                switch e.dtype {
                case .I64: v = src.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self).littleEndian
                case .I32: v = Int64(src.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self).littleEndian)
                case .I16: v = Int64(src.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self).littleEndian)
                case .I8: v = Int64(src.load(fromByteOffset: i, as: Int8.self))
                case .U8, .BOOL: v = Int64(src.load(fromByteOffset: i, as: UInt8.self))
                default:
                    throw QuiverError.io(path: path, detail: "tensor '\(name)' is \(e.dtype.rawValue), expected an integer type")
                }
                guard let narrow = Int32(exactly: v) else {
                    throw QuiverError.io(path: path, detail: "tensor '\(name)' element \(i) = \(v) does not fit in int32")
                }
                dst[i] = narrow
            }
        }
        return out
    }

    /// Adds elements `[start, start + count)` of float tensor `entry` (converted to f32) into
    /// `dst`. Used to gather embedding rows straight from the mapping.
    public func accumulateFloats(_ entry: Entry, from start: Int, count: Int, into dst: UnsafeMutablePointer<Float>) throws {
        guard entry.dtype.isFloat, start >= 0, count >= 0, start + count <= entry.shape.count else {
            throw QuiverError.io(path: path, detail: "tensor '\(entry.name)': cannot read \(entry.dtype.rawValue) elements \(start)..<\(start + count) of \(entry.shape)")
        }
        withBytes(entry) { src in
            if entry.dtype == .F32 {
                for i in 0..<count {
                    dst[i] += Float(bitPattern: src.loadUnaligned(fromByteOffset: 4 * (start + i), as: UInt32.self).littleEndian)
                }
            } else {
                for i in 0..<count { dst[i] += SafeTensors.float(entry.dtype, src, start + i) }
            }
        }
    }

    static func convertFloats(_ dtype: StoredType, _ src: UnsafeRawBufferPointer, from start: Int, count: Int,
                              into dst: UnsafeMutablePointer<Float>) {
        if dtype == .F32, let base = src.baseAddress {
            UnsafeMutableRawPointer(dst).copyMemory(from: base + 4 * start, byteCount: 4 * count)
            return
        }
        for i in 0..<count { dst[i] = float(dtype, src, start + i) }
    }

    @inline(__always)
    static func float(_ dtype: StoredType, _ src: UnsafeRawBufferPointer, _ i: Int) -> Float {
        switch dtype {
        case .F32: return Float(bitPattern: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
        case .F16: return Float(Float16(bitPattern: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian))
        case .BF16: return Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16)
        case .F64: return Float(Double(bitPattern: src.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian))
        default: return 0
        }
    }
}

/// The JSON header: tensor entries plus an optional `__metadata__` object of strings.
private struct RawHeader: Decodable {
    struct RawEntry: Decodable {
        let dtype: String
        let shape: [Int]
        let data_offsets: [Int]
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    var tensors: [(String, RawEntry)] = []
    var metadata: [String: String] = [:]

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        for key in c.allKeys {
            if key.stringValue == "__metadata__" {
                metadata = (try? c.decode([String: String].self, forKey: key)) ?? [:]
            } else {
                tensors.append((key.stringValue, try c.decode(RawEntry.self, forKey: key)))
            }
        }
    }
}
