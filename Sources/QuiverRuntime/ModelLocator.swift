import Foundation
import QuiverCore

/// Turns what a user passes as `--model` into a model directory on disk.
///
/// Accepted forms, tried in order:
/// 1. a directory holding `config.json` (a Hugging Face / sentence-transformers model folder);
/// 2. a Hugging Face hub cache entry `models--ORG--NAME` (the newest snapshot with a config.json);
/// 3. a hub id `ORG/NAME` looked up in the hub cache: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
///    `~/.cache/huggingface/hub`.
/// Nothing is downloaded: models come from disk only.
public enum ModelLocator {
    public static func resolve(_ spec: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let fm = FileManager.default
        let expanded = (spec as NSString).expandingTildeInPath
        if isModelDirectory(expanded) { return expanded }
        if let snapshot = newestSnapshot(cacheEntry: expanded) { return snapshot }

        let cache = hubCache(environment: environment)
        let parts = spec.split(separator: "/")
        if parts.count == 2, !fm.fileExists(atPath: expanded) {
            let entry = (cache as NSString).appendingPathComponent("models--\(parts[0])--\(parts[1])")
            if let snapshot = newestSnapshot(cacheEntry: entry) { return snapshot }
            throw QuiverError.io(path: spec, detail: "not a model directory, and no snapshot with a config.json under \(entry); "
                + "download it there (e.g. huggingface-cli download \(spec)) or pass the model's folder")
        }
        if fm.fileExists(atPath: expanded) {
            throw QuiverError.io(path: expanded, detail: "is not a model directory (no config.json); pass the folder that holds config.json and model.safetensors")
        }
        throw QuiverError.io(path: expanded, detail: "no such model directory; run scripts/fetch-model.sh for all-MiniLM-L6-v2, or pass a folder or a Hugging Face hub id cached under \(cache)")
    }

    /// The hub cache directory the Hugging Face libraries use.
    public static func hubCache(environment: [String: String]) -> String {
        if let dir = environment["HF_HUB_CACHE"], !dir.isEmpty { return (dir as NSString).expandingTildeInPath }
        if let home = environment["HF_HOME"], !home.isEmpty {
            return ((home as NSString).expandingTildeInPath as NSString).appendingPathComponent("hub")
        }
        let userHome = environment["HOME"] ?? NSHomeDirectory()
        return (userHome as NSString).appendingPathComponent(".cache/huggingface/hub")
    }

    static func isModelDirectory(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("config.json"))
    }

    /// The snapshot of a `models--ORG--NAME` entry that `refs/main` names, else the most recently
    /// modified snapshot holding a config.json.
    static func newestSnapshot(cacheEntry: String) -> String? {
        let fm = FileManager.default
        let snapshots = (cacheEntry as NSString).appendingPathComponent("snapshots")
        guard let names = try? fm.contentsOfDirectory(atPath: snapshots), !names.isEmpty else { return nil }
        let refPath = (cacheEntry as NSString).appendingPathComponent("refs/main")
        if let ref = try? String(contentsOfFile: refPath, encoding: .utf8) {
            let candidate = (snapshots as NSString).appendingPathComponent(ref.trimmingCharacters(in: .whitespacesAndNewlines))
            if isModelDirectory(candidate) { return candidate }
        }
        let dated: [(String, Date)] = names.compactMap { name in
            let path = (snapshots as NSString).appendingPathComponent(name)
            guard isModelDirectory(path) else { return nil }
            let date = (try? fm.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast
            return (path, date)
        }
        return dated.max { $0.1 < $1.1 }?.0
    }
}
