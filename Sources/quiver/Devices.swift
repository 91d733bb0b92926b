import ArgumentParser
import Foundation
import QuiverRuntime

/// `quiver devices`: what Quiver can compute on.
struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List OpenCL platforms and devices, the CPU backend, and which one --backend auto picks.")

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(help: ArgumentHelp("Show which device --device would pick (index or name part).", valueName: "index|name"))
    var device: String?

    func run() throws {
        let selector = DeviceSelector.resolve(flag: device, environment: ProcessInfo.processInfo.environment)
        let report = DeviceReport.collect(selector: selector)
        print(json ? try report.json() : report.text())
    }
}
