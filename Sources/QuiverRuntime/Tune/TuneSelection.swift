import Foundation
import QuiverOpenCL

/// How the winner of a family is picked, given every variant's medians.
///
/// A variant's score is the geometric mean over the family's shapes of its median / the
/// baseline median (the default's; where the default has no time, the fastest measured), so
/// every shape counts equally however long it takes. Only variants measured on every shape get a
/// score: skipped, rejected and failed variants are never chosen. The lowest score wins (the
/// earlier variant on a tie), but a variant replaces the default only when it is at least
/// `margin` (2%) faster: differences within timing noise keep the defaults, so re-runs agree.
enum TuneSelection {
    static let margin = 0.98

    /// Fills in `score` of every variant.
    static func score(_ family: inout TuneFamilyResult) {
        let baselines: [Double?] = family.shapes.indices.map { i in
            family.variants[family.defaultIndex].outcomes[i].medianMs
                ?? family.variants.compactMap { $0.outcomes[i].medianMs }.min()
        }
        for v in family.variants.indices {
            let times = family.variants[v].outcomes.map(\.medianMs)
            guard times.allSatisfy({ $0 != nil }), baselines.allSatisfy({ $0 != nil }), !times.isEmpty else {
                family.variants[v].score = nil
                continue
            }
            let logs = zip(times, baselines).map { log(max($0!, 1e-9) / max($1!, 1e-9)) }
            family.variants[v].score = exp(logs.reduce(0, +) / Double(logs.count))
        }
    }

    /// The index of the winner, nil when no variant was measured on every shape.
    static func choose(_ family: TuneFamilyResult) -> Int? {
        var best: Int?
        for (i, v) in family.variants.enumerated() {
            guard let s = v.score else { continue }
            if best == nil || s < family.variants[best!].score! { best = i }
        }
        guard let best else { return nil }
        if best != family.defaultIndex, let d = family.variants[family.defaultIndex].score,
           family.variants[best].score! > d * margin {
            return family.defaultIndex
        }
        return best
    }

    /// The best filter tiles (among variants with the default merge settings) joined with the best
    /// merge group and chunk (among variants with the default filter), when both beat the default.
    static func topKCombination(_ family: TuneFamilyResult, defaults d: KernelConfig.TopK) -> KernelConfig.TopK? {
        let filterKeys = ["tileQ", "tileT", "tileD", "workPerThreadQ", "workPerThreadT"]
        let mergeKeys = ["mergeGroupSize", "chunkRows"]
        let defaultParams = family.variants[family.defaultIndex].parameters
        func same(_ p: [String: Int], _ keys: [String]) -> Bool { keys.allSatisfy { p[$0] == defaultParams[$0] } }
        func best(_ keep: [String]) -> [String: Int]? {
            let pool = family.variants.filter { $0.score != nil && !$0.isDefault && same($0.parameters, keep) }
            guard let top = pool.min(by: { $0.score! < $1.score! }),
                  let ds = family.variants[family.defaultIndex].score, top.score! < ds else { return nil }
            return top.parameters
        }
        guard let filter = best(mergeKeys), let merge = best(filterKeys) else { return nil }
        var c = d
        (c.tileQ, c.tileT, c.tileD) = (filter["tileQ"]!, filter["tileT"]!, filter["tileD"]!)
        (c.workPerThreadQ, c.workPerThreadT) = (filter["workPerThreadQ"]!, filter["workPerThreadT"]!)
        (c.mergeGroupSize, c.chunkRows) = (merge["mergeGroupSize"]!, merge["chunkRows"]!)
        return c
    }

    /// The median of `values` (mean of the middle two for an even count).
    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
