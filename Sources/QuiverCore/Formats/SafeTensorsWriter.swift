import Foundation

/// Writes a `.safetensors` file (layout in `SafeTensors`): the header is padded with spaces so the
/// data starts at a multiple of 64 bytes, every tensor's data at a multiple of 64 too (aligned
/// for any element type when mapped). Written to a temporary file and renamed into place.
public enum SafeTensorsWriter {
    public struct Item {
        public var name: String
        public var dtype: SafeTensors.StoredType
        public var shape: [Int]
        public var bytes: UnsafeRawBufferPointer

        public init(name: String, dtype: SafeTensors.StoredType, shape: [Int], bytes: UnsafeRawBufferPointer) {
            (self.name, self.dtype, self.shape, self.bytes) = (name, dtype, shape, bytes)
        }
    }

    public static func write(_ items: [Item], metadata: [String: String] = [:], to path: String) throws {
        var offsets: [(Int, Int)] = []
        var end = 0
        for item in items {
            let expected = item.shape.reduce(1, *) * item.dtype.size
            guard item.bytes.count == expected else {
                throw QuiverError.io(path: path, detail: "tensor '\(item.name)' has \(item.bytes.count) bytes, its shape \(item.shape) of \(item.dtype.rawValue) needs \(expected)")
            }
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
                if let base = item.bytes.baseAddress, item.bytes.count > 0 {
                    try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: item.bytes.count, deallocator: .none))
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
