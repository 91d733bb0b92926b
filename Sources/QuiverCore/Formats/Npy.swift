import Foundation

/// NumPy `.npy` files (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
/// magic `\x93NUMPY`, version, a little-endian header length, a Python dict literal
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (R, C), }` padded with spaces to a
/// 64-byte boundary, then the data. Quiver reads little-endian f32, f16 and i32 in C order
/// and writes f32 (version 1.0); `quiver score` writes i32 arrays of rows too.
public enum Npy {
    /// A mapped `.npy` file: header parsed, data left on disk until touched.
    public final class File: Sendable {
        public let path: String
        public let dtype: DType
        public let shape: Shape
        /// Byte offset of the first element.
        public let dataOffset: Int
        private let file: MappedFile

        public init(path: String) throws {
            self.path = path
            file = try MappedFile(path: path)
            let header = try Npy.parseHeader(file.bytes(0..<file.byteCount), path: path)
            (dtype, shape, dataOffset) = (header.dtype, header.shape, header.dataOffset)
            let needed = shape.count * dtype.size
            guard file.byteCount - dataOffset >= needed else {
                throw QuiverError.io(path: path, detail: "truncated .npy: shape \(shape) of \(dtype) needs \(needed) data bytes, the file has \(file.byteCount - dataOffset)")
            }
        }

        /// The element bytes, straight from the mapping. Valid while this object is alive.
        public func withData<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            try withExtendedLifetime(file) { try body(file.bytes(dataOffset..<(dataOffset + shape.count * dtype.size))) }
        }

        /// A host copy of the array (dtype as stored: f32 or f16).
        public func tensor() -> Tensor {
            let t = Tensor(zeros: shape, dtype)
            withData { src in
                if let base = src.baseAddress { t.storage.pointer.copyMemory(from: base, byteCount: src.count) }
            }
            return t
        }
    }

    /// Byte offset of the data in the `.npy` file at `path` (any dtype; only the header is read).
    public static func dataOffset(path: String) throws -> Int {
        let file = try MappedFile(path: path)
        let bytes = file.bytes(0..<min(file.byteCount, 1 << 16))
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw QuiverError.io(path: path, detail: "not a .npy file (missing the \\x93NUMPY magic) or truncated")
        }
        let length = bytes[6] == 1 ? 10 + Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self).littleEndian)
            : 12 + Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian)
        guard length <= file.byteCount else { throw QuiverError.io(path: path, detail: "truncated .npy header") }
        return length
    }

    /// Reads `path` into a host tensor (f32 or f16, as stored).
    public static func read(path: String) throws -> Tensor { try File(path: path).tensor() }

    /// Writes an f32 tensor (any rank) as a version 1.0 `.npy`, through a temporary file renamed
    /// into place so `path` never holds a partial array.
    public static func write(_ tensor: Tensor, to path: String) throws {
        guard tensor.dtype == .f32 else {
            throw QuiverError.io(path: path, detail: "Npy.write takes f32 tensors, got \(tensor.dtype)")
        }
        guard let rows = tensor.shape.dims.first else {
            throw QuiverError.io(path: path, detail: "Npy.write needs a tensor of rank 1 or more")
        }
        let writer = try NpyWriter(path: path, trailingShape: Array(tensor.shape.dims.dropFirst()), leadingShape: rows)
        try tensor.withUnsafeBytes { try writer.appendBytes($0, rows: rows) }
        try writer.finish()
    }

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    struct Header { var dtype: DType; var shape: Shape; var dataOffset: Int }

    static func parseHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws -> Header {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw QuiverError.io(path: path, detail: "not a .npy file (missing the \\x93NUMPY magic) or truncated")
        }
        let major = bytes[6]
        let (lengthSize, headerLength): (Int, Int)
        switch major {
        case 1: (lengthSize, headerLength) = (2, Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt16.self).littleEndian))
        case 2, 3:
            guard bytes.count >= 12 else { throw QuiverError.io(path: path, detail: "truncated .npy header") }
            (lengthSize, headerLength) = (4, Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian))
        default: throw QuiverError.io(path: path, detail: "unsupported .npy version \(major).\(bytes[7])")
        }
        let start = 8 + lengthSize
        guard bytes.count >= start + headerLength else {
            throw QuiverError.io(path: path, detail: "truncated .npy header: \(headerLength) bytes announced, \(bytes.count - start) present")
        }
        let text = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        guard let descr = value(of: "descr", in: text), let fortran = value(of: "fortran_order", in: text),
              let shapeText = value(of: "shape", in: text) else {
            throw QuiverError.io(path: path, detail: "bad .npy header (need descr, fortran_order, shape): \(text)")
        }
        guard fortran == "False" else {
            throw QuiverError.io(path: path, detail: "fortran_order arrays are not supported; save with np.ascontiguousarray(a)")
        }
        let dtype: DType
        switch descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) {
        case "<f4": dtype = .f32
        case "<f2": dtype = .f16
        case "<i4": dtype = .i32
        default:
            throw QuiverError.io(path: path, detail: "dtype \(descr) is not supported; use float32 ('<f4') or float16 ('<f2'), e.g. a.astype(np.float32)")
        }
        let inner = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        var dims: [Int] = []
        for part in inner.split(separator: ",") {
            let p = part.trimmingCharacters(in: .whitespaces)
            if p.isEmpty { continue }
            guard let d = Int(p), d >= 0 else { throw QuiverError.io(path: path, detail: "bad .npy shape \(shapeText)") }
            dims.append(d)
        }
        return Header(dtype: dtype, shape: Shape(dims), dataOffset: start + headerLength)
    }

    /// The text of `'key': value` in a Python dict literal: up to the next top-level comma.
    private static func value(of key: String, in text: String) -> String? {
        guard let keyRange = text.range(of: "'\(key)'") ?? text.range(of: "\"\(key)\""),
              let colon = text[keyRange.upperBound...].firstIndex(of: ":") else { return nil }
        var depth = 0
        var out = ""
        for ch in text[text.index(after: colon)...] {
            if ch == "(" || ch == "[" { depth += 1 }
            if ch == ")" || ch == "]" { depth -= 1 }
            if (ch == "," && depth == 0) || ch == "}" { break }
            out.append(ch)
        }
        let v = out.trimmingCharacters(in: .whitespaces)
        return v.isEmpty ? nil : v
    }

    /// A version 1.0 header for a little-endian array of `descr` ('<f4' float32, '<i4' int32),
    /// padded with spaces so its total length is exactly `total` (a multiple of 64), or the
    /// smallest multiple of 64 that fits.
    public static func header(shape: [Int], descr: String = "<f4", total: Int? = nil) -> [UInt8] {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        let dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        let minimum = 10 + dict.utf8.count + 1
        let size = max(total ?? 0, (minimum + 63) / 64 * 64)
        let body = dict + String(repeating: " ", count: size - minimum) + "\n"
        let length = UInt16(body.utf8.count)
        return magic + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(body.utf8)
    }
}
