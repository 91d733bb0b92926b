import Foundation
import Testing
import QuiverCore
import QuiverModels
import QuiverTestSupport

/// Loading a tiny BERT written in a temp dir: `bert.`-prefixed keys load, and a missing tensor, a
/// wrong shape or an unsupported model_type fail with errors naming the key and both shapes.
@Suite struct BertLoadErrorTests {
    static let (h, i, vocab, positions, layers) = (8, 16, 10, 6, 2)

    static func config(modelType: String = "bert", act: String = "gelu_new") -> String {
        #"{"model_type": "\#(modelType)", "vocab_size": \#(vocab), "hidden_size": \#(h), "num_hidden_layers": \#(layers), "num_attention_heads": 2, "intermediate_size": \#(i), "max_position_embeddings": \#(positions), "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "\#(act)"}"#
    }

    static func tensors(prefix: String = "") -> [(String, [Int])] {
        var t: [(String, [Int])] = [
            ("embeddings.word_embeddings.weight", [vocab, h]), ("embeddings.position_embeddings.weight", [positions, h]),
            ("embeddings.token_type_embeddings.weight", [2, h]), ("embeddings.LayerNorm.weight", [h]), ("embeddings.LayerNorm.bias", [h]),
        ]
        for l in 0..<layers {
            let p = "encoder.layer.\(l)"
            for name in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"] {
                t += [("\(p).\(name).weight", [h, h]), ("\(p).\(name).bias", [h])]
            }
            t += [("\(p).intermediate.dense.weight", [i, h]), ("\(p).intermediate.dense.bias", [i]),
                  ("\(p).output.dense.weight", [h, i]), ("\(p).output.dense.bias", [h])]
            for ln in ["attention.output.LayerNorm", "output.LayerNorm"] { t += [("\(p).\(ln).weight", [h]), ("\(p).\(ln).bias", [h])] }
        }
        return t.map { (prefix + $0.0, $0.1) }
    }

    static func model(config: String = config(), tensors: [(String, [Int])] = tensors()) throws -> URL {
        let dir = try ModelFixtures.scratch()
        try Data(config.utf8).write(to: dir.appendingPathComponent("config.json"))
        try ModelFixtures.writeSafeTensors(tensors, to: dir.appendingPathComponent("model.safetensors"))
        return dir
    }

    @Test func loadsWithOrWithoutBertPrefix() throws {
        guard let backend = try TestBackends.backend("cpu") else { return }
        var outputs: [[Float]] = []
        for prefix in ["", "bert."] {
            let dir = try Self.model(tensors: Self.tensors(prefix: prefix) + [("\(prefix)embeddings.position_ids", [1, Self.positions])])
            defer { try? FileManager.default.removeItem(at: dir) }
            let encoder = try BertEncoder.load(directory: dir.path, backend: backend)
            #expect(encoder.config.hiddenAct == .geluTanh && encoder.config.headSize == 4)
            let st = try SentenceTransformer.load(directory: dir.path, backend: backend)
            #expect(st.config == SentenceTransformerConfig(pooling: .mean, normalize: false, maxSeqLength: Self.positions))
            outputs.append(try backend.values(encoder.forward(inputIds: [1, 2, 3, 9, 0, 0], attentionMask: [1, 1, 1, 1, 1, 0], batch: 2, sequence: 3)))
        }
        #expect(outputs[0] == outputs[1] && outputs[0].count == 2 * 3 * Self.h && !Compare.hasNaN(outputs[0]))
    }

    @Test func missingTensorNamesTheKey() throws {
        guard let backend = try TestBackends.backend("cpu") else { return }
        let dir = try Self.model(tensors: Self.tensors().filter { $0.0 != "encoder.layer.1.output.dense.bias" })
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = #expect(throws: QuiverError.self) { try BertEncoder.load(directory: dir.path, backend: backend) }
        #expect(error?.description.contains("missing tensor 'encoder.layer.1.output.dense.bias'") == true, "\(String(describing: error))")
        #expect(error?.description.contains("model.safetensors") == true)
    }

    @Test func wrongShapeNamesKeyAndBothShapes() throws {
        guard let backend = try TestBackends.backend("cpu") else { return }
        let bad = Self.tensors().map { $0.0 == "encoder.layer.0.intermediate.dense.weight" ? ($0.0, [Self.h, Self.i]) : $0 }
        let dir = try Self.model(tensors: bad)
        defer { try? FileManager.default.removeItem(at: dir) }
        let error = #expect(throws: QuiverError.self) { try BertEncoder.load(directory: dir.path, backend: backend) }
        let text = error?.description ?? ""
        #expect(text.contains("'encoder.layer.0.intermediate.dense.weight'") && text.contains("[8, 16]") && text.contains("expected [16, 8]"), "\(text)")
    }

    @Test func unsupportedConfigsAreRejected() throws {
        guard let backend = try TestBackends.backend("cpu") else { return }
        for (config, needle) in [(Self.config(modelType: "roberta"), "model_type \"roberta\""), (Self.config(act: "swish"), "hidden_act \"swish\""),
                                 (#"{"model_type": "bert"}"#, "bad config.json")] {
            let dir = try Self.model(config: config)
            defer { try? FileManager.default.removeItem(at: dir) }
            let error = #expect(throws: QuiverError.self) { try BertEncoder.load(directory: dir.path, backend: backend) }
            #expect(error?.description.contains(needle) == true && error?.description.contains("config.json") == true, "\(String(describing: error))")
        }
    }

    @Test func sentenceTransformerConfigReadsModuleFiles() throws {
        let dir = try Self.model()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(#"[{"type": "sentence_transformers.models.Transformer", "path": ""}, {"type": "sentence_transformers.models.Pooling", "path": "pool"}, {"type": "sentence_transformers.models.Normalize", "path": "2_Normalize"}]"#.utf8)
            .write(to: dir.appendingPathComponent("modules.json"))
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("pool"), withIntermediateDirectories: true)
        try Data(#"{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}"#.utf8).write(to: dir.appendingPathComponent("pool/config.json"))
        try Data(#"{"max_seq_length": 4}"#.utf8).write(to: dir.appendingPathComponent("sentence_bert_config.json"))
        #expect(try SentenceTransformerConfig.load(directory: dir.path, defaultMaxLength: 6) == SentenceTransformerConfig(pooling: .cls, normalize: true, maxSeqLength: 4))
        if let backend = try TestBackends.backend("cpu") {
            let model = try SentenceTransformer.load(directory: dir.path, backend: backend)
            let rows = try model.embed(inputIds: [1, 2, 3, 4, 5, 0], attentionMask: [1, 1, 1, 1, 1, 0], batch: 2, sequence: 3)
            for r in 0..<2 {
                let norm = rows[(r * Self.h)..<((r + 1) * Self.h)].reduce(0) { $0 + $1 * $1 }.squareRoot()
                #expect(abs(norm - 1) < 1e-5, "row \(r) is L2-normalized: \(norm)")
            }
            let long = #expect(throws: QuiverError.self) {
                try model.embed(inputIds: [1, 2, 3, 4, 5], attentionMask: [1, 1, 1, 1, 1], batch: 1, sequence: 5)
            }
            #expect(long?.description.contains("max_seq_length 4") == true)
        }
        try Data(#"{"pooling_mode_max_tokens": true}"#.utf8).write(to: dir.appendingPathComponent("pool/config.json"))
        let error = #expect(throws: QuiverError.self) { try SentenceTransformerConfig.load(directory: dir.path, defaultMaxLength: 6) }
        #expect(error?.description.contains("pooling_mode_max_tokens") == true)
    }
}
