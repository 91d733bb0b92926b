import QuiverRuntime

/// A response body that writes its own JSON: byte for byte what `JSONBody.response` would get from
/// `JSONEncoder` (`.sortedKeys`, `.withoutEscapingSlashes`), without the encoder's cost (for an
/// embedding, a container and a boxed number per float). `JSONBody.response` uses it when
/// `writeJSON` succeeds and falls back to `JSONEncoder` otherwise.
protocol JSONWritable: Encodable {
    /// Appends the JSON; returns false, leaving `out` to be discarded, where it cannot be written
    /// like JSONEncoder (a non-finite float, which JSONEncoder refuses with an error).
    func writeJSON(into out: inout [UInt8]) -> Bool
}

/// Rows of floats, `[[Float]]` as JSON (TEI's `/embed`).
struct FloatRows: JSONWritable {
    var rows: [[Float]]

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rows)
    }

    func writeJSON(into out: inout [UInt8]) -> Bool {
        Self.write(rows, into: &out)
    }

    static func write(_ rows: [[Float]], into out: inout [UInt8]) -> Bool {
        out.append(UInt8(ascii: "["))
        for (i, row) in rows.enumerated() {
            guard row.allSatisfy(\.isFinite) else { return false }
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendNumbers(&out, row)
        }
        out.append(UInt8(ascii: "]"))
        return true
    }
}

/// `[inputs][tokens][dimension]` floats as JSON (TEI's `/embed_all`).
struct FloatRowGroups: JSONWritable {
    var groups: [[[Float]]]

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(groups)
    }

    func writeJSON(into out: inout [UInt8]) -> Bool {
        out.append(UInt8(ascii: "["))
        for (i, rows) in groups.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            guard FloatRows.write(rows, into: &out) else { return false }
        }
        out.append(UInt8(ascii: "]"))
        return true
    }
}

extension OpenAIRoutes.EmbeddingResponse: JSONWritable {
    /// `{"data":[{"embedding":…,"index":0,"object":"embedding"},…],"model":…,"object":"list",
    /// "usage":{"prompt_tokens":…,"total_tokens":…}}`: keys sorted, as the encoder writes them.
    func writeJSON(into out: inout [UInt8]) -> Bool {
        let floats = data.reduce(0) { n, item in if case let .floats(v) = item.embedding { n + v.count } else { n } }
        out.reserveCapacity(floats * 12 + data.count * 64 + 128)
        JSONText.appendRaw(&out, #"{"data":["#)
        for (i, item) in data.enumerated() {
            JSONText.appendRaw(&out, i == 0 ? #"{"embedding":"# : #",{"embedding":"#)
            switch item.embedding {
            case let .floats(v):
                guard v.allSatisfy(\.isFinite) else { return false }
                JSONText.appendNumbers(&out, v)
            case let .base64(text):
                JSONText.appendString(&out, text)
            }
            JSONText.appendRaw(&out, #","index":"#)
            JSONText.appendNumber(&out, item.index)
            JSONText.appendRaw(&out, #","object":"#)
            JSONText.appendString(&out, item.object)
            out.append(UInt8(ascii: "}"))
        }
        JSONText.appendRaw(&out, #"],"model":"#)
        JSONText.appendString(&out, model)
        JSONText.appendRaw(&out, #","object":"#)
        JSONText.appendString(&out, object)
        JSONText.appendRaw(&out, #","usage":{"prompt_tokens":"#)
        JSONText.appendNumber(&out, usage.promptTokens)
        JSONText.appendRaw(&out, #","total_tokens":"#)
        JSONText.appendNumber(&out, usage.totalTokens)
        JSONText.appendRaw(&out, "}}")
        return true
    }
}
