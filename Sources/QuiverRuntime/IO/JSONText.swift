/// Minimal JSON writing for hot output loops (no Foundation encoder per line or per response).
/// Strings and numbers come out byte for byte as Foundation's `JSONEncoder` writes them (with
/// `.withoutEscapingSlashes`), so a hand-written document can replace an encoded one.
public enum JSONText {
    /// Appends `text` as a JSON string literal (RFC 8259 escapes, as JSONEncoder: `\"`, `\\`,
    /// `\n`, `\r`, `\t`, `\b`, `\f`, other control characters as `\u00xx`; `/` and non-ASCII as is).
    public static func appendString(_ out: inout [UInt8], _ text: String) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [0x5C, 0x22]
            case UInt8(ascii: "\\"): out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case 0x08: out += [0x5C, UInt8(ascii: "b")]
            case 0x0C: out += [0x5C, UInt8(ascii: "f")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends a finite `value` as JSONEncoder writes a `Float`: Swift's shortest round-trip
    /// `description` with a trailing `.0` dropped (`1`, `-0`, `0.015`, `1e-05`, `3.4028235e+38`).
    /// JSON has no NaN or infinity: callers check `isFinite` first.
    @inlinable
    public static func appendNumber(_ out: inout [UInt8], _ value: Float) {
        var text = value.description
        text.withUTF8 { bytes in
            var n = bytes.count
            if n >= 2, bytes[n - 2] == UInt8(ascii: "."), bytes[n - 1] == UInt8(ascii: "0") { n -= 2 }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[..<n]))
        }
    }

    /// Appends `[v0,v1,…]` (see `appendNumber`); every value must be finite.
    @inlinable
    public static func appendNumbers(_ out: inout [UInt8], _ values: some Collection<Float>) {
        out.reserveCapacity(out.count + values.count * 12 + 2)
        out.append(UInt8(ascii: "["))
        var first = true
        for v in values {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            appendNumber(&out, v)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Appends an integer in decimal.
    @inlinable
    public static func appendNumber(_ out: inout [UInt8], _ value: Int) {
        var text = String(value)
        text.withUTF8 { out.append(contentsOf: $0) }
    }

    /// Appends `text` as is: JSON punctuation and keys the caller wrote out.
    @inlinable
    public static func appendRaw(_ out: inout [UInt8], _ text: StaticString) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }
}
