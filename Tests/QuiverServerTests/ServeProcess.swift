import Foundation
import Testing

/// `quiver serve` in a child process, as a user runs it: started with `arguments` after `serve`
/// (`--port 0` is added), ready once it prints its listening line. A child process has its own
/// threads, so a test that drives it does not depend on the test process's concurrency pool,
/// which other tests running in parallel may keep busy with long computations.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let log: ServeCLITests.LineReader
    private(set) var base: URL!

    /// Starts the server and waits (polling, up to a minute) for its listening line.
    init(_ arguments: [String]) async throws {
        let exe = try #require(ServeCLITests.binary, "build the quiver binary first (swift build)")
        process.executableURL = exe
        process.arguments = ["serve"] + arguments + ["--port", "0"]
        let err = Pipe()
        (process.standardOutput, process.standardError) = (FileHandle.nullDevice, err)
        log = ServeCLITests.LineReader(err)
        try process.run()
        var found: URL?
        let log = log, process = process
        try await ServeCLITests.waitFor("the listening line") {
            if let range = log.all.range(of: #"listening on http://127\.0\.0\.1:\d+"#, options: .regularExpression) {
                found = URL(string: String(log.all[range].dropFirst("listening on ".count)))
            }
            return found != nil || !process.isRunning
        }
        base = try #require(found, "no listening line: \(log.all)")
    }

    /// Stops the server if it still runs.
    func stop() {
        if process.isRunning { process.terminate() }
    }

    deinit { stop() }
}
