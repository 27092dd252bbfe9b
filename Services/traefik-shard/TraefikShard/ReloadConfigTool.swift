import Foundation
import MCP
import ShardKit
import Yams

/// `reload_config`: make Traefik re-read its file provider and report what it now serves for
/// the managed routes.
enum ReloadConfigTool {
    struct ManagedState: Encodable, Sendable {
        let name: String
        let router: String
        let file: String
        let state: String
        let errors: [String]
    }

    struct Report: Encodable, Sendable {
        let triggered: String
        let settled: Bool
        let managed: [ManagedState]
        let staleInTraefik: [String]
        let note: String
    }

    static func make(_ context: TraefikContext) -> ShardTool {
        ShardTool(
            name: "reload_config",
            title: "Reload Traefik's file configuration",
            description: """
                Makes Traefik re-read its dynamic-configuration directory (by touching a sentinel file Traefik watches), waits \
                until the routes this shard manages match their files, and reports each one as loaded, disabled (with \
                Traefik's error) or missing. Traefik shows YAML errors only in its log, so a missing route means Traefik \
                rejected or has not yet read its file.
                """,
            inputSchema: JSONSchema.object([:]),
            annotations: .init(title: "Reload Traefik config", readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false)
        ) { _ in
            try await context.changes.run { try await reload(context) }
        }
    }

    static func reload(_ context: TraefikContext) async throws -> CallTool.Result {
        let files = context.files
        try files.triggerReload()
        var rules: [String: String] = [:]
        for name in context.ownedNames() {
            let rule = files.read(name).flatMap { try? YAMLRouteReader.rule(in: $0, router: RouteName.prefix + name) }
            rules[RouteName.prefix + name + "@file"] = rule ?? ""
        }
        let expected = rules
        let defined = files.definedNames()
        let isStale = { @Sendable (router: String) -> Bool in
            guard router.hasPrefix(RouteName.prefix), router.hasSuffix("@file"), expected[router] == nil else { return false }
            // A mcp- router in a hand-written top-level file is not ours to report.
            return defined[String(router.dropLast("@file".count))].map { $0.hasPrefix(ManagedFiles.folderName + "/") } ?? true
        }
        let api = context.api
        let snapshot = await context.poll { () -> RawData? in
            let raw = try await api.rawData()
            let matches = expected.allSatisfy { raw.routers[$0.key]?.rule == $0.value }
            let stale = raw.routers.keys.contains(where: isStale)
            return matches && !stale ? raw : nil
        }
        let settled = snapshot.value != nil
        let raw: RawData
        if let value = snapshot.value { raw = value } else { raw = try await api.rawData() }
        let managed = expected.keys.sorted().map { router -> ManagedState in
            let name = String(router.dropFirst(RouteName.prefix.count).dropLast("@file".count))
            let state: String
            let loaded = raw.routers[router]
            if let loaded { state = loaded.status == "disabled" ? "disabled" : (loaded.rule == expected[router] ? "loaded" : "outdated") } else { state = "missing" }
            return ManagedState(name: name, router: router, file: files.path(for: name), state: state, errors: loaded?.error ?? [])
        }
        let stale = raw.routers.keys.filter(isStale).sorted()
        return try .json(Report(
            triggered: files.sentinel, settled: settled, managed: managed, staleInTraefik: stale,
            note: settled
                ? "Traefik serves exactly what the managed files say. It cannot show YAML errors in other files (those are in Traefik's log only)."
                : "Traefik did not match the managed files within \(TraefikAPI.seconds(context.settings.applyTimeout)): a file may be unparsable (Traefik keeps its last good config and logs the error) or Traefik did not reload. Run validate_config."))
    }
}
