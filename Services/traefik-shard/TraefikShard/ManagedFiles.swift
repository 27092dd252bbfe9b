import Foundation
import ShardKit
import Yams

#if canImport(Glibc)
import Glibc
#endif

/// The shard's files under `<dynamic dir>/mcp-managed/` and the reload sentinel in the
/// top-level directory. Writes are atomic: a temp name Traefik ignores (no YAML extension),
/// then `rename`.
struct ManagedFiles: Sendable {
    static let folderName = "mcp-managed"
    /// Traefik's watcher sees only the top-level directory, so a change in `mcp-managed/` is
    /// applied after this file changes.
    static let sentinelName = ".mcp-reload-trigger"

    let dynamicDirectory: String

    var folder: String { (dynamicDirectory as NSString).appendingPathComponent(Self.folderName) }
    var sentinel: String { (dynamicDirectory as NSString).appendingPathComponent(Self.sentinelName) }

    func path(for name: String) -> String {
        (folder as NSString).appendingPathComponent(name + ".yml")
    }

    func read(_ name: String) -> String? {
        FileManager.default.contents(atPath: path(for: name)).map { String(decoding: $0, as: UTF8.self) }
    }

    func write(_ name: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        removeStaleTemporaries()
        let temporary = (folder as NSString).appendingPathComponent(".\(name).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else {
            throw FileError(message: "cannot write in \(folder) (check that the directory is mounted read-write for the shard's user)")
        }
        guard rename(temporary, path(for: name)) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw FileError(message: "cannot rename into \(path(for: name)): \(reason)")
        }
    }

    /// Temp files a crash left behind (Traefik ignores them, but they would pile up).
    private func removeStaleTemporaries() {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for entry in entries where entry.hasPrefix(".") && entry.hasSuffix(".tmp") {
            let path = (folder as NSString).appendingPathComponent(entry)
            let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
            if let modified, modified.timeIntervalSinceNow < -60 { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    func remove(_ name: String) throws {
        do {
            try FileManager.default.removeItem(atPath: path(for: name))
        } catch {
            throw FileError(message: "cannot remove \(path(for: name)): \(error.localizedDescription)")
        }
    }

    /// Changes the sentinel so Traefik re-reads the whole tree.
    func triggerReload() throws {
        let stamp = "reload requested by traefik-shard at \(Date())\n"
        guard FileManager.default.createFile(atPath: sentinel, contents: Data(stamp.utf8)) else {
            throw FileError(message: "cannot write the reload sentinel \(sentinel) (the top-level dynamic directory must be writable)")
        }
    }

    /// Short names of the managed files (`<name>.yml` in `mcp-managed/`).
    func managedNames() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return entries.filter { $0.hasSuffix(".yml") && !$0.hasPrefix(".") }.map { String($0.dropLast(4)) }.sorted()
    }

    /// Every router, service and middleware name defined in any YAML file of the dynamic
    /// directory (recursively), with the file that defines it.
    func definedNames() -> [String: String] {
        var names: [String: String] = [:]
        guard let walker = FileManager.default.enumerator(atPath: dynamicDirectory) else { return names }
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".yml") || relative.hasSuffix(".yaml") else { continue }
            let full = (dynamicDirectory as NSString).appendingPathComponent(relative)
            guard let data = FileManager.default.contents(atPath: full),
                  let root = (try? Yams.load(yaml: String(decoding: data, as: UTF8.self))) as? [String: Any]
            else { continue }
            for protocolKey in ["http", "tcp", "udp"] {
                guard let section = root[protocolKey] as? [String: Any] else { continue }
                for kind in ["routers", "services", "middlewares"] {
                    for key in ((section[kind] as? [String: Any]) ?? [:]).keys { names[key] = relative }
                }
            }
        }
        return names
    }
}

struct FileError: Error, CustomStringConvertible, Sendable {
    let message: String
    var description: String { message }
}

/// Runs one change at a time: Traefik's configuration is one shared file tree, and a create
/// racing a delete would confirm the wrong state.
actor ChangeQueue {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }
}
