import Foundation

/// What a benchmark sends.
public enum WorkloadKind: String, CaseIterable, Sendable, Codable {
    /// One text → its embedding (`Engine.embed`, `POST /v1/embeddings`).
    case embed
    /// One text query → exact top-k against the catalog (`Engine.search(text:)`).
    case search
    /// A short user history of catalog items → top-k (`Engine.recommend`).
    case recommend
}

/// One benchmark request.
public enum BenchRequest: Sendable, Equatable {
    case embed(String)
    case search(String, k: Int)
    case recommend(history: [String], k: Int)
}

/// The requests of a run, drawn at random (seeded) from a list of texts or catalog items.
public struct Workload: Sendable {
    public let kind: WorkloadKind
    /// Texts for embed and search requests.
    public let texts: [String]
    /// Catalog item ids (or rows as text) for recommend histories.
    public let items: [String]
    /// Results per search/recommend request.
    public let k: Int
    /// History length range for recommend.
    public let historyLength: ClosedRange<Int>

    public init(kind: WorkloadKind, texts: [String], items: [String] = [], k: Int = 10, historyLength: ClosedRange<Int> = 1...5) throws {
        if kind == .recommend {
            guard !items.isEmpty else { throw QuiverError.invalidArgument("the recommend workload needs a catalog with items (--catalog)") }
        } else {
            guard !texts.isEmpty else { throw QuiverError.invalidArgument("the \(kind.rawValue) workload needs at least one text") }
        }
        guard k >= 1 else { throw QuiverError.invalidArgument("--k must be at least 1, got \(k)") }
        (self.kind, self.texts, self.items, self.k, self.historyLength) = (kind, texts, items, k, historyLength)
    }

    /// The next request, drawn with `random`.
    public func request(_ random: inout BenchRandom) -> BenchRequest {
        switch kind {
        case .embed:
            return .embed(texts[Int(random.next() % UInt64(texts.count))])
        case .search:
            return .search(texts[Int(random.next() % UInt64(texts.count))], k: k)
        case .recommend:
            let span = UInt64(historyLength.count)
            let length = historyLength.lowerBound + Int(random.next() % span)
            let history = (0..<length).map { _ in items[Int(random.next() % UInt64(items.count))] }
            return .recommend(history: history, k: k)
        }
    }

    /// Reads one text per line (empty lines skipped: a benchmark wants real queries).
    public static func texts(file path: String) throws -> [String] {
        let content: String
        do { content = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw QuiverError.invalidArgument("cannot read --texts \(path): \(error.localizedDescription)")
        }
        let lines = content.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard !lines.isEmpty else { throw QuiverError.invalidArgument("--texts \(path) has no non-empty lines") }
        return lines
    }

    /// `count` short search queries of 2–5 words from `queryVocabulary`, seeded.
    public static func generatedQueries(count: Int, seed: UInt64) -> [String] {
        var random = BenchRandom(seed: seed)
        return (0..<max(1, count)).map { _ in
            let words = 2 + Int(random.next() % 4)
            return (0..<words).map { _ in queryVocabulary[Int(random.next() % UInt64(queryVocabulary.count))] }.joined(separator: " ")
        }
    }

    /// Words of shopping searches (products, attributes, materials, audiences).
    public static let queryVocabulary = """
        waterproof hiking boots women men kids running shoes trail jacket rain winter summer lightweight \
        wireless noise cancelling headphones earbuds bluetooth speaker portable charger usb cable fast \
        cast iron skillet nonstick pan chef knife stainless steel kettle coffee grinder espresso mug \
        organic green tea dark chocolate protein bar gluten free snacks olive oil spicy sauce \
        yoga mat dumbbells resistance bands fitness tracker smartwatch cycling helmet tent sleeping bag \
        backpack travel carry on suitcase leather wallet cotton shirt wool socks linen dress denim \
        moisturizer sunscreen shampoo conditioner vitamin c serum unscented sensitive skin \
        desk lamp led bulb ergonomic office chair standing desk monitor mechanical keyboard mouse \
        gift for dad mom birthday cheap best rated small large black white blue red grey bamboo glass
        """.split(separator: " ").map(String.init)
}
