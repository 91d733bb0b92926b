import ArgumentParser

/// The `quiver` command line.
struct Quiver: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quiver",
        abstract: "GPU-accelerated embeddings and exact top-k similarity for recommendation and search.",
        subcommands: [Devices.self, Tokenize.self, Encode.self, Score.self, Merge.self, CatalogCommand.self, Show.self, Serve.self, GEMMDemo.self, Bench.self, Tune.self]
    )
}
