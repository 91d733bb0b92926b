import Foundation
import Testing
import QuiverRuntime
import QuiverTestSupport

@Suite struct ModelLocatorTests {
    /// A fresh temporary directory for one test.
    func scratch(_ name: String) throws -> String { try Scratch.directory("locator-\(name)").path }

    func makeModel(at dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: dir).appendingPathComponent("config.json"))
    }

    @Test func plainDirectoryResolvesToItself() throws {
        let dir = try scratch("plain")
        try makeModel(at: dir)
        #expect(try ModelLocator.resolve(dir, environment: [:]) == dir)
    }

    @Test func hubIdUsesRefsMainInHFHubCache() throws {
        let cache = try scratch("hub")
        let entry = "\(cache)/models--sentence-transformers--all-MiniLM-L6-v2"
        try makeModel(at: "\(entry)/snapshots/aaa")
        try makeModel(at: "\(entry)/snapshots/bbb")
        try FileManager.default.createDirectory(atPath: "\(entry)/refs", withIntermediateDirectories: true)
        try Data("aaa\n".utf8).write(to: URL(fileURLWithPath: "\(entry)/refs/main"))
        let env = ["HF_HUB_CACHE": cache, "HF_HOME": "/nonexistent"]
        #expect(try ModelLocator.resolve("sentence-transformers/all-MiniLM-L6-v2", environment: env) == "\(entry)/snapshots/aaa")
        #expect(try ModelLocator.resolve(entry, environment: env) == "\(entry)/snapshots/aaa")
    }

    @Test func hfHomeIsHonouredWhenHubCacheIsUnset() throws {
        let home = try scratch("home")
        try makeModel(at: "\(home)/hub/models--org--name/snapshots/s1")
        #expect(try ModelLocator.resolve("org/name", environment: ["HF_HOME": home]) == "\(home)/hub/models--org--name/snapshots/s1")
        #expect(ModelLocator.hubCache(environment: ["HOME": "/h"]) == "/h/.cache/huggingface/hub")
    }

    @Test func missingModelsSayWhatToDo() throws {
        let cache = try scratch("empty")
        let byId = #expect(throws: QuiverError.self) { try ModelLocator.resolve("org/missing", environment: ["HF_HUB_CACHE": cache]) }
        #expect(byId?.description.contains("models--org--missing") == true)
        let notModel = try scratch("notmodel")
        let byDir = #expect(throws: QuiverError.self) { try ModelLocator.resolve(notModel, environment: [:]) }
        #expect(byDir?.description.contains("no config.json") == true)
        let none = #expect(throws: QuiverError.self) { try ModelLocator.resolve("/no/such/model/dir", environment: [:]) }
        #expect(none?.description.contains("scripts/fetch-model.sh") == true)
    }
}
