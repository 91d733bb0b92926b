// Character classes of Hugging Face tokenizers' BertNormalizer and BertPreTokenizer, per Unicode
// scalar (a Rust `char`). Upstream: tokenizers/src/normalizers/bert.rs (clean_text,
// handle_chinese_chars, strip_accents, lowercase) and tokenizers/src/pre_tokenizers/bert.rs.
//
// The category-based sets (dropped controls, punctuation, non-spacing marks) come from the
// generated UnicodeTables.swift, not from `Unicode.Scalar.Properties`: tokenizers uses the Rust
// crate `unicode_categories`, whose tables predate Unicode 10, and Swift's current tables disagree
// on ~650 newer code points. Lowercasing and NFD do come from Swift: they match Rust's
// `char::to_lowercase` and the `unicode-normalization` crate for every scalar (checked when the
// tables were generated).

/// Bit flags for one scalar.
struct CharClass: OptionSet, Sendable {
    let rawValue: UInt8
    /// Dropped by clean_text: U+0000, U+FFFD and categories Cc/Cf/Co/Cs except \t \n \r.
    static let dropped = CharClass(rawValue: 1)
    /// Rust `char::is_whitespace` (Unicode White_Space): mapped to ' ' by clean_text, split on by
    /// the pre-tokenizer.
    static let whitespace = CharClass(rawValue: 2)
    /// BERT punctuation (ASCII 33–47, 58–64, 91–96, 123–126 and categories P*): a word of its own.
    static let punctuation = CharClass(rawValue: 4)
    /// A CJK ideograph in the ranges BERT surrounds with spaces.
    static let chinese = CharClass(rawValue: 8)
    /// Non-spacing mark (Mn): dropped by strip_accents after NFD.
    static let mark = CharClass(rawValue: 16)
    /// Changes when lowercased (Rust `char::to_lowercase` is not the identity).
    static let changesLower = CharClass(rawValue: 32)
}

enum CharClasses {
    /// Flags for U+0000...U+FFFF, built once (64 KiB).
    static let bmp: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 0x10000)
        func mark(_ ranges: [UInt32], _ flag: CharClass) {
            var i = 0
            while i + 1 < ranges.count {
                let lo = ranges[i], hi = ranges[i + 1]
                i += 2
                if lo > 0xFFFF { break }
                for cp in lo...min(hi, 0xFFFF) { t[Int(cp)] |= flag.rawValue }
            }
        }
        mark(droppedControlRanges, .dropped)
        t[0] |= CharClass.dropped.rawValue
        t[0xFFFD] |= CharClass.dropped.rawValue
        mark(punctuationRanges, .punctuation)
        mark(nonspacingMarkRanges, .mark)
        for cp in whitespaceScalars { t[Int(cp)] |= CharClass.whitespace.rawValue }
        var i = 0
        while i + 1 < chineseRanges.count {
            let lo = chineseRanges[i], hi = chineseRanges[i + 1]
            i += 2
            if lo <= 0xFFFF { for cp in lo...hi { t[Int(cp)] |= CharClass.chinese.rawValue } }
        }
        for cp in 0..<0x10000 {
            if let s = Unicode.Scalar(UInt32(cp)), s.properties.changesWhenLowercased {
                t[cp] |= CharClass.changesLower.rawValue
            }
        }
        return t
    }()

    /// Rust `char::is_whitespace`: the White_Space property (U+0009–U+000D, U+0020, U+0085,
    /// U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000).
    static let whitespaceScalars: [UInt32] = [
        0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680,
        0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
        0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
    ]

    /// The CJK blocks BERT's `is_chinese_char` lists (closed ranges, interleaved bounds):
    /// Unified Ideographs, Extension A, B, C, D, E+F, Compatibility Ideographs (+ Supplement).
    static let chineseRanges: [UInt32] = [
        0x4E00, 0x9FFF, 0x3400, 0x4DBF, 0x20000, 0x2A6DF, 0x2A700, 0x2B73F,
        0x2B740, 0x2B81F, 0x2B920, 0x2CEAF, 0xF900, 0xFAFF, 0x2F800, 0x2FA1F,
    ]

    /// Flags of one scalar value. O(1) in the BMP, O(log ranges) above it.
    @inline(__always)
    static func of(_ cp: UInt32) -> CharClass {
        if cp < 0x10000 { return CharClass(rawValue: bmp[Int(cp)]) }
        return astral(cp)
    }

    static func astral(_ cp: UInt32) -> CharClass {
        var c: CharClass = []
        if inRanges(droppedControlRanges, cp) { c.insert(.dropped) }
        if inRanges(punctuationRanges, cp) { c.insert(.punctuation) }
        if inRanges(nonspacingMarkRanges, cp) { c.insert(.mark) }
        var i = 0
        while i + 1 < chineseRanges.count {
            if cp >= chineseRanges[i] && cp <= chineseRanges[i + 1] { c.insert(.chinese); break }
            i += 2
        }
        if let s = Unicode.Scalar(cp), s.properties.changesWhenLowercased { c.insert(.changesLower) }
        return c
    }

    /// Binary search in sorted closed ranges stored as interleaved [lo0, hi0, lo1, hi1, ...].
    static func inRanges(_ r: [UInt32], _ cp: UInt32) -> Bool {
        var lo = 0, hi = r.count / 2  // search range indices [lo, hi)
        while lo < hi {
            let mid = (lo + hi) / 2
            if cp < r[2 * mid] { hi = mid } else if cp > r[2 * mid + 1] { lo = mid + 1 } else { return true }
        }
        return false
    }
}
