import Foundation

/// Writes a `.safetensors` file (layout in `SafeTensors`): the header is padded with spaces so the
/// data starts at a multiple of 64 bytes, every tensor's data at a multiple of 64 too (aligned
/// for any element type when mapped). Written to a temporary file and renamed into place.
public enum SafeTensorsWriter {
    /// One tensor: its bytes are produced by `produce`, which passes them to `emit` in order, in
    /// as many pieces as it likes (so a large tensor can be streamed without holding it).
    public struct Item {
        public var name: String
        public var dtype: SafeTensors.StoredType
        public var shape: [Int]
        public var produce: (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void

        public init(name: String, dtype: SafeTensors.StoredType, shape: [Int],
                    produce: @escaping (_ emit: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) {
            (self.name, self.dtype, self.shape, self.produce) = (name, dtype, shape, produce)
        }

        /// A tensor whose bytes are all in `bytes` (valid until `write` returns).
        public init(name: String, dtype: SafeTensors.StoredType, shape: [Int], bytes: UnsafeRawBufferPointer) {
            self.init(name: name, dtype: dtype, shape: shape) { emit in try emit(bytes) }
        }

        /// An F32 tensor holding `values`.
        public init(name: String, shape: [Int], floats values: [Float]) {
            self.init(name: name, dtype: .F32, shape: shape) { emit in try values.withUnsafeBytes { try emit($0) } }
        }
    }

    public static func write(_ items: [Item], metadata: [String: String] = [:], to path: String) throws {
        var offsets: [(Int, Int)] = []
        var end = 0
        for item in items {
            let expected = item.shape.reduce(1, *) * item.dtype.size
            let start = (end + 63) / 64 * 64
            offsets.append((start, start + expected))
            end = start + expected
        }
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        for (item, range) in zip(items, offsets) {
            header[item.name] = ["dtype": item.dtype.rawValue, "shape": item.shape, "data_offsets": [range.0, range.1]]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        let padded = (8 + json.count + 63) / 64 * 64 - 8
        json.append(contentsOf: [UInt8](repeating: 0x20, count: padded - json.count))

        let temp = path + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        guard FileManager.default.createFile(atPath: temp, contents: nil), let handle = FileHandle(forWritingAtPath: temp) else {
            throw QuiverError.io(path: path, detail: "cannot create \(temp)")
        }
        do {
            var length = UInt64(json.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: json)
            var written = 0
            for (item, range) in zip(items, offsets) {
                if range.0 > written { try handle.write(contentsOf: Data(count: range.0 - written)) }
                var produced = 0
                try item.produce { bytes in
                    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
                    try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none))
                    produced += bytes.count
                }
                guard produced == range.1 - range.0 else {
                    throw QuiverError.io(path: path, detail: "tensor '\(item.name)' produced \(produced) bytes, its shape \(item.shape) of \(item.dtype.rawValue) needs \(range.1 - range.0)")
                }
                written = range.1
            }
            try handle.synchronize()
            try handle.close()
            if rename(temp, path) != 0 { throw QuiverError.io(path: path, detail: "cannot rename \(temp) into place") }
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: temp)
            throw error as? QuiverError ?? QuiverError.io(path: path, detail: "write failed: \(error)")
        }
    }
}
