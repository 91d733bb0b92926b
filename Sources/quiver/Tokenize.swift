import ArgumentParser
import Foundation
import QuiverRuntime

/// `quiver tokenize`: texts → token ids, one JSON line per input, in order.
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tokenize texts with a model's WordPiece tokenizer; print {\"ids\": [...]} per input.")

    @Option(help: "Model folder, Hugging Face hub id cached locally (ORG/NAME), or hub cache entry.") var model: String
    @Option(help: "Input file, or - for standard input.") var input: String = "-"
    @Option(help: "Input format: text (one per line) or jsonl ({\"text\": ...} per line).") var format: TextInput.Format = .text
    @Option(help: "Tokens per input, [CLS]/[SEP] included (default: the model's max_seq_length).") var maxLength: Int?

    func run() throws {
        let tokenizer = try TextTokenizer(model: model, maxLength: maxLength)
        let reader = try TextInput(path: input, format: format)
        var out = ""
        while let text = try reader.next() {
            out += "{\"ids\":[" + tokenizer.encode(text).map(String.init).joined(separator: ",") + "]}\n"
            if out.utf8.count > 1 << 16 {
                FileHandle.standardOutput.write(Data(out.utf8))
                out = ""
            }
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}
