import Foundation
import Hummingbird
import QuiverRuntime

/// Exact top-k over the catalog loaded at start: `POST /search` (a text or a vector) and
/// `POST /recommend` (a user's history of catalog items).
enum CatalogRoutes {
    struct SearchRequest: Decodable {
        var model: String?
        /// Text to embed with the model, then search with.
        var query: String?
        /// Query vector (the catalog's width).
        var vector: [Float]?
        var k: Int?
        /// Items never to return: ids, or rows without an ids file.
        var exclude: [ItemReference]?
    }

    struct RecommendRequest: Decodable {
        var model: String?
        var history: [HistoryEntry]
        var k: Int?
        /// With timestamps: an interaction `half_life` seconds old counts half.
        var halfLife: Double?
        /// Reference time for ages (Unix seconds or ISO 8601); default: now.
        var now: Timestamp?

        enum CodingKeys: String, CodingKey {
            case model, history, k, now
            case halfLife = "half_life"
        }
    }

    /// A history item: `"sku1"`, `12`, or `{"item": "sku1", "weight": 2, "timestamp": 1700000000}`.
    struct HistoryEntry: Decodable {
        var item: String
        var weight: Float = 1
        var timestamp: Timestamp?

        enum CodingKeys: String, CodingKey { case item, weight, timestamp }

        init(from decoder: any Decoder) throws {
            if let reference = try? ItemReference(from: decoder) {
                item = reference.value
                return
            }
            let c = try decoder.container(keyedBy: CodingKeys.self)
            item = try c.decode(ItemReference.self, forKey: .item).value
            weight = try c.decodeIfPresent(Float.self, forKey: .weight) ?? 1
            timestamp = try c.decodeIfPresent(Timestamp.self, forKey: .timestamp)
        }
    }

    /// A time as Unix seconds (a number) or an ISO 8601 string.
    struct Timestamp: Decodable {
        var date: Date

        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let seconds = try? c.decode(Double.self) {
                date = Date(timeIntervalSince1970: seconds)
            } else if let text = try? c.decode(String.self), let parsed = Self.parse(text) {
                date = parsed
            } else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                        debugDescription: "must be Unix seconds or an ISO 8601 time such as 2026-01-31T12:00:00Z."))
            }
        }

        private static func parse(_ text: String) -> Date? {
            let plain = ISO8601DateFormatter(), fractional = ISO8601DateFormatter()
            fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return plain.date(from: text) ?? fractional.date(from: text)
        }
    }

    struct Results: Encodable {
        var model: String
        var metric: String
        var results: [Hit]

        struct Hit: Encodable {
            var id: String
            var row: Int
            var score: Float
        }

        init(model: ServedModel, hits: [Engine.Hit]) {
            self.model = model.name
            metric = model.engine.configuration.metric.rawValue
            results = hits.map { Hit(id: $0.id, row: $0.row, score: $0.score) }
        }
    }

    static func register(on router: Router<BasicRequestContext>, state: ServerState) {
        router.post("/search") { request, _ in
            let body = try await JSONBody.decode(SearchRequest.self, from: request, limit: state.configuration.maxBodyBytes)
            return try JSONBody.response(try await search(body, state: state))
        }
        router.post("/recommend") { request, _ in
            let body = try await JSONBody.decode(RecommendRequest.self, from: request, limit: state.configuration.maxBodyBytes)
            return try JSONBody.response(try await recommend(body, state: state))
        }
    }

    static func search(_ body: SearchRequest, state: ServerState) async throws -> Results {
        let model = try state.registry.resolve(body.model)
        let catalog = try catalog(of: model)
        let k = try checkK(body.k)
        let exclude = (body.exclude ?? []).map(\.value)
        let timeout = state.configuration.requestTimeout
        let hits: [Engine.Hit]
        switch (body.query, body.vector) {
        case let (query?, nil):
            guard !query.isEmpty else { throw APIError.badRequest("`query` is an empty string.", code: "empty_input", param: "query") }
            let ids = try state.embeddings.modelInputs(.texts([query]), for: model, field: "query", truncate: true)
            guard model.engine.dimension == catalog.dimension else {
                throw APIError.badRequest("`\(model.name)` makes \(model.engine.dimension ?? 0)-dimensional vectors but its catalog has \(catalog.dimension) dims; send a `vector`.",
                                          param: "query")
            }
            let vector = try await model.engine.embed(tokenIds: ids, timeout: timeout)[0]
            hits = try await model.engine.search(vector: vector, k: k, exclude: exclude, timeout: timeout)
        case let (nil, vector?):
            guard vector.count == catalog.dimension else {
                throw APIError.badRequest("`vector` has \(vector.count) values; the catalog of `\(model.name)` has \(catalog.dimension) dims.",
                                          code: "invalid_dimensions", param: "vector")
            }
            guard vector.allSatisfy(\.isFinite) else {
                throw APIError.badRequest("`vector` holds a value that is not a finite number.", param: "vector")
            }
            hits = try await model.engine.search(vector: vector, k: k, exclude: exclude, timeout: timeout)
        default:
            throw APIError.badRequest("Send exactly one of `query` (text) and `vector` (numbers).", code: "missing_field", param: "query")
        }
        return Results(model: model, hits: hits)
    }

    static func recommend(_ body: RecommendRequest, state: ServerState) async throws -> Results {
        let model = try state.registry.resolve(body.model)
        _ = try catalog(of: model)
        let k = try checkK(body.k)
        guard !body.history.isEmpty else {
            throw APIError.badRequest("`history` is empty; send at least one item.", code: "empty_input", param: "history")
        }
        guard body.history.count <= state.configuration.maxInputs else {
            throw APIError.tooLarge("`history` has \(body.history.count) items; this server takes at most \(state.configuration.maxInputs) (--max-inputs).",
                                    code: "too_many_inputs", param: "history")
        }
        for (i, entry) in body.history.enumerated() {
            guard entry.weight.isFinite, entry.weight >= 0 else {
                throw APIError.badRequest("`history[\(i)].weight` must be a finite number ≥ 0.", param: "history")
            }
            guard model.engine.row(of: entry.item) != nil else {
                throw APIError.badRequest("`history[\(i)]`: item \"\(entry.item)\" is not in the catalog of `\(model.name)`.",
                                          code: "unknown_item", param: "history")
            }
        }
        if let halfLife = body.halfLife, !(halfLife.isFinite && halfLife > 0) {
            throw APIError.badRequest("`half_life` must be a positive number of seconds.", param: "half_life")
        }
        let history = body.history.map { Engine.HistoryItem(item: $0.item, weight: $0.weight, time: $0.timestamp?.date) }
        let hits = try await model.engine.recommend(history: history, k: k, halfLife: body.halfLife, now: body.now?.date ?? Date(),
                                                    timeout: state.configuration.requestTimeout)
        return Results(model: model, hits: hits)
    }

    private static func catalog(of model: ServedModel) throws -> Catalog {
        guard let catalog = model.engine.catalog else {
            throw APIError.badRequest("`\(model.name)` has no catalog; start the server with --catalog to search or recommend.",
                                      code: "no_catalog", param: "model")
        }
        return catalog
    }

    /// `k`: 10 by default, 1 ... `TopKLists.maxK` (more than the catalog holds returns every item).
    private static func checkK(_ k: Int?) throws -> Int {
        let k = k ?? 10
        guard (1...TopKLists.maxK).contains(k) else {
            throw APIError.badRequest("`k` must be 1 ... \(TopKLists.maxK), not \(k).", param: "k")
        }
        return k
    }
}
