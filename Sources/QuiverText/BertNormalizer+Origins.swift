// BertNormalizer that also records where each normalized scalar came from, for offsets. Kept apart
// from `normalize` so the ids path stays as it was. Hugging Face tokenizers tracks the same thing
// with NormalizedString alignments (tokenizers/src/tokenizer/normalizer.rs): a scalar produced by
// splitting, decomposing or lowercasing an input scalar aligns to that input scalar; removed
// scalars (clean_text's controls, strip_accents' marks) leave no trace.
import Foundation

extension BertNormalizer {
    /// As `normalize`, and `s.origins[k]` = the index (in the input, as `segment`'s indices count)
    /// of the scalar that `s.normalized[k]` came from. Gives the same `s.normalized` as `normalize`:
    /// NFD is done one scalar at a time and then canonically reordered (which is what NFD is).
    func normalizeTrackingOrigins(_ segment: ArraySlice<UInt32>, _ s: inout WordPieceTokenizer.Scratch) {
        s.normalized.removeAll(keepingCapacity: true)
        s.origins.removeAll(keepingCapacity: true)
        var needsNFD = false
        for i in segment.indices {
            let cp = segment[i], origin = Int32(i)
            let cls = CharClasses.of(cp)
            if cleanText {
                if cls.contains(.dropped) { continue }
                if cls.contains(.whitespace) { emit(0x20, origin, &s.normalized, &s.origins); continue }
            }
            if handleChineseChars && cls.contains(.chinese) {
                emit(0x20, origin, &s.normalized, &s.origins)
                emit(cp, origin, &s.normalized, &s.origins)
                emit(0x20, origin, &s.normalized, &s.origins)
                continue
            }
            if cp >= 0xC0 { needsNFD = true }
            emit(cp, origin, &s.normalized, &s.origins)
        }
        guard (stripAccents && needsNFD) || lowercase else { return }
        if stripAccents && needsNFD {
            swap(&s.normalized, &s.other)
            swap(&s.origins, &s.otherOrigins)
            s.normalized.removeAll(keepingCapacity: true)
            s.origins.removeAll(keepingCapacity: true)
            for (cp, origin) in zip(s.other, s.otherOrigins) {
                if cp < 0xC0 { emit(cp, origin, &s.normalized, &s.origins); continue }
                let decomposed = String(Character(Unicode.Scalar(cp)!)).decomposedStringWithCanonicalMapping
                for u in decomposed.unicodeScalars { emit(u.value, origin, &s.normalized, &s.origins) }
            }
            Self.reorderCanonically(&s.normalized, &s.origins)
            var kept = 0
            for k in s.normalized.indices where !CharClasses.of(s.normalized[k]).contains(.mark) {
                s.normalized[kept] = s.normalized[k]
                s.origins[kept] = s.origins[k]
                kept += 1
            }
            s.normalized.removeLast(s.normalized.count - kept)
            s.origins.removeLast(s.origins.count - kept)
        }
        guard lowercase else { return }
        swap(&s.normalized, &s.other)
        swap(&s.origins, &s.otherOrigins)
        s.normalized.removeAll(keepingCapacity: true)
        s.origins.removeAll(keepingCapacity: true)
        for (cp, origin) in zip(s.other, s.otherOrigins) {
            if cp < 0x80 {
                emit(cp >= 0x41 && cp <= 0x5A ? cp + 0x20 : cp, origin, &s.normalized, &s.origins)
            } else if CharClasses.of(cp).contains(.changesLower), let u = Unicode.Scalar(cp) {
                for l in u.properties.lowercaseMapping.unicodeScalars { emit(l.value, origin, &s.normalized, &s.origins) }
            } else {
                emit(cp, origin, &s.normalized, &s.origins)
            }
        }
    }

    @inline(__always)
    private func emit(_ cp: UInt32, _ origin: Int32, _ scalars: inout [UInt32], _ origins: inout [Int32]) {
        scalars.append(cp)
        origins.append(origin)
    }

    /// The Canonical Ordering Algorithm: within each run of scalars with a nonzero canonical
    /// combining class, a stable sort by that class (origins move along).
    static func reorderCanonically(_ scalars: inout [UInt32], _ origins: inout [Int32]) {
        func ccc(_ cp: UInt32) -> UInt8 { Unicode.Scalar(cp).map { $0.properties.canonicalCombiningClass.rawValue } ?? 0 }
        var i = 1
        while i < scalars.count {
            let c = ccc(scalars[i])
            if c != 0 {
                var j = i
                while j > 0, case let p = ccc(scalars[j - 1]), p > c {
                    scalars.swapAt(j, j - 1)
                    origins.swapAt(j, j - 1)
                    j -= 1
                }
            }
            i += 1
        }
    }
}
