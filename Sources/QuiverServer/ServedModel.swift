import Foundation
import QuiverRuntime

/// One engine the server answers for, under the name clients select it by (`model` in requests).
public struct ServedModel: Sendable {
    public let name: String
    public let engine: Engine
    /// The model's sentence-transformers pipeline ends in a Normalize module, so its embeddings
    /// are unit length (TEI's `normalize: false` gets the pooled vector before it).
    public let normalizes: Bool

    /// `name` defaults to the model's folder name (e.g. `all-MiniLM-L6-v2`).
    public init(name: String? = nil, engine: Engine) {
        self.name = name ?? engine.modelName ?? "default"
        self.engine = engine
        normalizes = engine.tokenizer.map { Self.hasNormalizeModule(directory: $0.modelDirectory) } ?? false
    }

    /// Whether `modules.json` in `directory` lists `sentence_transformers.models.Normalize`.
    static func hasNormalizeModule(directory: String) -> Bool {
        struct Module: Decodable { var type: String? }
        let url = URL(fileURLWithPath: directory).appendingPathComponent("modules.json")
        guard let data = try? Data(contentsOf: url), let modules = try? JSONDecoder().decode([Module].self, from: data) else { return false }
        return modules.contains { $0.type?.hasSuffix(".Normalize") == true }
    }
}

/// The served models in command-line order; the first is the default.
struct ModelRegistry: Sendable {
    let models: [ServedModel]

    init(_ models: [ServedModel]) throws {
        guard !models.isEmpty else { throw QuiverError.invalidArgument("the server needs at least one model or catalog") }
        var seen = Set<String>()
        for m in models where !seen.insert(m.name).inserted {
            throw QuiverError.invalidArgument("two served models are named \"\(m.name)\"; name them apart with --model NAME=PATH")
        }
        self.models = models
    }

    var names: [String] { models.map(\.name) }

    /// The model a request names: nil or "" is the default; `ORG/NAME` matches a model served as
    /// `NAME` (clients often send the Hugging Face id). Unknown → 404 `model_not_found`.
    func resolve(_ requested: String?) throws -> ServedModel {
        guard let requested, !requested.isEmpty else { return models[0] }
        if let exact = models.first(where: { $0.name == requested }) { return exact }
        let last = requested.split(separator: "/").last.map(String.init) ?? requested
        if let match = models.first(where: { $0.name == last }) { return match }
        throw APIError.modelNotFound(requested, served: names)
    }
}
