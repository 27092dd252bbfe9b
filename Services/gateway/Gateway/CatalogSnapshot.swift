import MCP
import MCPShared

/// Where an aggregated tool lives.
struct ToolRoute: Sendable {
    let shard: String
    let originalName: String
}

/// The aggregated tool list at one moment: immutable, so `tools/list` and routing read it
/// without waiting on any shard.
struct CatalogSnapshot: Sendable {
    let tools: [Tool]
    let routes: [String: ToolRoute]
    /// Human-readable collision reports for `/health` and logs.
    let collisions: [String]

    static let empty = CatalogSnapshot(tools: [], routes: [:], collisions: [])

    /// Names every healthy shard's tools `<shard>_<tool>`. Shards are taken in name order, so the
    /// result is deterministic; a name already taken gets a hash suffix and a collision report.
    static func build(shards: [(name: String, tools: [Tool])]) -> CatalogSnapshot {
        var tools: [Tool] = []
        var routes: [String: ToolRoute] = [:]
        var collisions: [String] = []
        for shard in shards.sorted(by: { $0.name < $1.name }) {
            for tool in shard.tools {
                var name = ToolNaming.qualifiedName(shard: shard.name, tool: tool.name)
                if let taken = routes[name] {
                    let renamed = ToolNaming.qualifiedName(shard: shard.name, tool: tool.name + "~" + shard.name, clientPrefixLength: 0)
                    let unique = renamed == name ? name + "-2" : renamed
                    collisions.append("tool '\(tool.name)' of shard '\(shard.name)' would be named '\(name)', already used by '\(taken.originalName)' of shard '\(taken.shard)'; exposed as '\(unique)'")
                    name = unique
                }
                routes[name] = ToolRoute(shard: shard.name, originalName: tool.name)
                tools.append(tool.renamed(name))
            }
        }
        return CatalogSnapshot(tools: tools, routes: routes, collisions: collisions)
    }
}

extension Tool {
    func renamed(_ name: String) -> Tool {
        Tool(
            name: name, title: title, description: description, inputSchema: inputSchema,
            annotations: annotations, outputSchema: outputSchema, icons: icons, _meta: _meta)
    }
}
