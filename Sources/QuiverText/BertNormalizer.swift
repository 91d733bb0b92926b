// BertNormalizer of Hugging Face tokenizers (tokenizers/src/normalizers/bert.rs), per scalar.
import Foundation

/// The normalizer flags of a BERT tokenizer and the normalization itself.
struct BertNormalizer: Sendable {
    /// Drop U+0000, U+FFFD and Cc/Cf/Co/Cs (except \t \n \r); white space to ' '.
    var cleanText: Bool
    /// Surround CJK ideographs with spaces, so each becomes a word.
    var handleChineseChars: Bool
    /// NFD, then drop non-spacing marks (Mn): "café" → "cafe".
    var stripAccents: Bool
    /// Lowercase each scalar on its own, like Rust's `char::to_lowercase` (no final-sigma rule).
    var lowercase: Bool

    /// Normalizes `segment` into `s.normalized` (clean_text, CJK spacing, strip_accents, lowercase,
    /// in that order, as tokenizers does). Uses `s.other` as scratch. O(n); NFD only for non-ASCII.
    func normalize(_ segment: ArraySlice<UInt32>, _ s: inout WordPieceTokenizer.Scratch) {
        s.normalized.removeAll(keepingCapacity: true)
        var needsNFD = false
        for cp in segment {
            let cls = CharClasses.of(cp)
            if cleanText {
                if cls.contains(.dropped) { continue }
                if cls.contains(.whitespace) { s.normalized.append(0x20); continue }
            }
            if handleChineseChars && cls.contains(.chinese) {
                s.normalized.append(0x20); s.normalized.append(cp); s.normalized.append(0x20)
                continue
            }
            if cp >= 0xC0 { needsNFD = true }  // nothing below U+00C0 decomposes or is a mark
            s.normalized.append(cp)
        }
        guard (stripAccents && needsNFD) || lowercase else { return }
        swap(&s.normalized, &s.other)
        s.normalized.removeAll(keepingCapacity: true)
        if stripAccents && needsNFD {
            var view = String.UnicodeScalarView()
            for cp in s.other { view.append(Unicode.Scalar(cp)!) }
            let nfd = String(view).decomposedStringWithCanonicalMapping
            s.other.removeAll(keepingCapacity: true)
            for u in nfd.unicodeScalars where !CharClasses.of(u.value).contains(.mark) { s.other.append(u.value) }
            if !lowercase { swap(&s.normalized, &s.other); return }
        }
        for cp in s.other {
            if cp < 0x80 {
                s.normalized.append(cp >= 0x41 && cp <= 0x5A ? cp + 0x20 : cp)
            } else if CharClasses.of(cp).contains(.changesLower), let u = Unicode.Scalar(cp) {
                for l in u.properties.lowercaseMapping.unicodeScalars { s.normalized.append(l.value) }
            } else {
                s.normalized.append(cp)
            }
        }
    }

}
