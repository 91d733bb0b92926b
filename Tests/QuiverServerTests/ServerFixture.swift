import Foundation
import Hummingbird
import QuiverRuntime
import QuiverServer
import QuiverTestSupport
import Testing

/// Shared set-up of the server tests: all-MiniLM-L6-v2 with a catalog made of the
/// sentence-transformers embeddings of the parity fixture's sentences (ids `s0` …), helpers to
/// call the server over real HTTP (`LiveServer` on loopback) and to check responses.
enum ServerFixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modelPath = root.appendingPathComponent("models/all-MiniLM-L6-v2").path

    /// `Tests/Fixtures/models/minilm_parity.json`: sentences, their token ids and their
    /// sentence-transformers embeddings (row-major, `hidden` wide).
    struct Parity: Decodable {
        var sentences: [String]
        var hidden: Int
        var sequence: Int
        var embeddings: [Float]
        /// Padded to `sequence` per sentence, with `attentionMask` marking the real tokens.
        var inputIds: [Int]
        var attentionMask: [Int]

        enum CodingKeys: String, CodingKey {
            case sentences, hidden, sequence, embeddings
            case inputIds = "input_ids", attentionMask = "attention_mask"
        }

        func embedding(_ i: Int) -> [Float] { Array(embeddings[(i * hidden)..<((i + 1) * hidden)]) }

        /// Token ids of sentence `i` as Hugging Face's tokenizer made them ([CLS] … [SEP]).
        func ids(_ i: Int) -> [Int] {
            (0..<sequence).filter { attentionMask[i * sequence + $0] == 1 }.map { inputIds[i * sequence + $0] }
        }
    }

    private static let parityResult = Result {
        try JSONDecoder().decode(Parity.self, from: Data(contentsOf: root.appendingPathComponent("Tests/Fixtures/models/minilm_parity.json")))
    }

    static func parity() throws -> Parity { try parityResult.get() }

    /// Catalog files: the parity embeddings as a float32 .npy and ids `s0`, `s1`, ….
    struct CatalogFiles: Sendable { var dir: URL; var catalog: String; var ids: String; var rows: Int }

    private static let catalogResult = Result {
        let dir = try Scratch.directory("serve-catalog")
        let p = try parity(), rows = p.sentences.count
        let files = CatalogFiles(dir: dir, catalog: dir.appendingPathComponent("catalog.npy").path,
                                 ids: dir.appendingPathComponent("ids.txt").path, rows: rows)
        try Npy.write(Tensor(shape: [rows, p.hidden], floats: p.embeddings), to: files.catalog)
        try (0..<rows).map { "s\($0)" }.joined(separator: "\n").write(toFile: files.ids, atomically: true, encoding: .utf8)
        return files
    }

    static func catalogFiles() throws -> CatalogFiles { try catalogResult.get() }

    /// An engine on the CPU backend. Policies without deadlines (`window`, `none`) so a busy
    /// test machine cannot shed requests; the `slo` policy's timing is tested on a virtual clock
    /// in QuiverSchedulerTests.
    static func engine(catalog: Bool = true, policy: BatchPolicy = .window(maxBatch: 32, maxDelay: .milliseconds(2)),
                       latencyTarget: Duration = .milliseconds(50), maxBatchTokens: Int = 8192, queueCapacity: Int = 1024,
                       metric: Metric = .cosine) throws -> Engine {
        var config = Engine.Configuration()
        config.model = modelPath
        if catalog {
            let files = try catalogFiles()
            (config.catalog, config.ids) = (files.catalog, files.ids)
        }
        (config.metric, config.policy, config.queueCapacity, config.latencyTarget) = (metric, policy, queueCapacity, latencyTarget)
        config.maxBatchTokens = maxBatchTokens
        return try Engine(configuration: config, backend: try #require(try TestBackends.backend("cpu")))
    }

    /// One engine shared by the tests that need no special settings (loading takes a while).
    static let shared: Result<Engine, any Error> = Result { try engine() }

    static func server(_ models: [ServedModel]? = nil, configure: (inout ServerConfiguration) -> Void = { _ in }) throws -> QuiverServer {
        var config = ServerConfiguration()
        config.port = 0
        configure(&config)
        return try QuiverServer(models: models ?? [ServedModel(engine: try shared.get())], configuration: config)
    }

    // MARK: requests

    static func post(_ client: LiveServer.Client, _ uri: String, json: String, headers: [String: String] = [:]) async throws -> LiveServer.Response {
        var headers = headers
        headers["Content-Type"] = "application/json"
        return try await client.execute(uri: uri, method: .post, headers: headers, body: Data(json.utf8))
    }

    static func post(_ client: LiveServer.Client, _ uri: String, _ object: Any, headers: [String: String] = [:]) async throws -> LiveServer.Response {
        let data = try JSONSerialization.data(withJSONObject: object)
        return try await post(client, uri, json: String(decoding: data, as: UTF8.self), headers: headers)
    }

    static func json(_ response: LiveServer.Response) throws -> Any {
        try JSONSerialization.jsonObject(with: response.body, options: [.fragmentsAllowed])
    }

    static func decode<T: Decodable>(_ type: T.Type, _ response: LiveServer.Response) throws -> T {
        try JSONDecoder().decode(T.self, from: response.body)
    }

    /// The body is `{"error": {"message", "type", "code", "param"}}` with `code`; returns the message.
    @discardableResult
    static func expectError(_ response: LiveServer.Response, _ status: HTTPResponse.Status, code: String,
                            sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let text = response.text
        #expect(response.status == status, "\(text)", sourceLocation: sourceLocation)
        #expect(response.headers["content-type"] == "application/json", sourceLocation: sourceLocation)
        struct Envelope: Decodable { struct Body: Decodable { var message: String; var type: String; var code: String }; var error: Body }
        let envelope = try JSONDecoder().decode(Envelope.self, from: response.body)
        #expect(envelope.error.code == code, "\(text)", sourceLocation: sourceLocation)
        #expect(!envelope.error.message.isEmpty && !envelope.error.type.isEmpty, sourceLocation: sourceLocation)
        return envelope.error.message
    }

    /// The body is TEI's `{"error": "...", "error_type": type}`; returns the message.
    @discardableResult
    static func expectTEIError(_ response: LiveServer.Response, _ status: HTTPResponse.Status, type: String,
                               sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let text = response.text
        #expect(response.status == status, "\(text)", sourceLocation: sourceLocation)
        #expect(response.headers["content-type"] == "application/json", sourceLocation: sourceLocation)
        let object = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any], sourceLocation: sourceLocation)
        #expect(Set(object.keys) == ["error", "error_type"], "\(text)", sourceLocation: sourceLocation)
        #expect(object["error_type"] as? String == type, "\(text)", sourceLocation: sourceLocation)
        let message = try #require(object["error"] as? String, sourceLocation: sourceLocation)
        #expect(!message.isEmpty, sourceLocation: sourceLocation)
        return message
    }

    /// Positions where two vectors differ in any bit (or the length difference).
    static func bitMismatches(_ a: [Float], _ b: [Float]) -> Int {
        zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count + abs(a.count - b.count)
    }

    /// Largest |a − b| over two equally long vectors (infinity when the lengths differ).
    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }
}
