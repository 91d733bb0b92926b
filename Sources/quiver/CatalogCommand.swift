import ArgumentParser
import Foundation
import QuiverRuntime

/// `quiver catalog convert`: reduced-precision copies of a catalog.
struct CatalogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog", abstract: "Catalog tools.", subcommands: [Convert.self])

    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an f16 or int8 copy of a float32 catalog (.safetensors) for faster, smaller scoring.",
            discussion: """
                int8 stores each row as round(x / s) with s = max|x| / 127 (symmetric, per row); f16 rounds to \
                nearest. Both record each row's norm and storage error, so `quiver score --catalog REDUCED \
                --rescore ORIGINAL` returns exact results: a shortlist from the reduced catalog is rescored in \
                float32 and certified (queries that fail the certificate are scored in full).
                """)

        @Option(help: "Float32 catalog (.npy or .safetensors).") var input: String
        @Option(help: "f16 or int8.") var to: CatalogConversion.Precision
        @Option(help: "Output .safetensors file.") var output: String
        @Flag(help: "Replace an existing output.") var overwrite = false

        func validate() throws {
            guard output.hasSuffix(".safetensors") else { throw ValidationError("--output must end in .safetensors") }
            if !overwrite, FileManager.default.fileExists(atPath: output) {
                throw ValidationError("\(output) exists; pass --overwrite to replace it")
            }
        }

        func run() throws {
            let start = Date()
            let catalog = try Catalog(path: input)
            try CatalogConversion.convert(catalog, to: to, output: output)
            let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? NSNumber)?.intValue ?? 0
            Log.info(String(format: "converted %d items × %d dims to %@ in %.2f s -> %@ (%.1f MB)", catalog.rows, catalog.dimension,
                            to.rawValue, Date().timeIntervalSince(start), output, Double(size) / 1e6))
        }
    }
}

extension CatalogConversion.Precision: ExpressibleByArgument {}
