import Foundation
import MCP
import MCPShared

/// Where an aggregated tool or prompt lives.
struct ShardRoute: Sendable {
    let shard: String
    let originalName: String
    /// `originalName` as a JSON string, for the requests to the shard.
    let encodedName: Data

    init(shard: String, originalName: String) {
        self.shard = shard
        self.originalName = originalName
        self.encodedName = (try? ShardToolResult.encoder.encode(originalName)) ?? Data("\"\"".utf8)
    }
}

/// What one healthy shard offers, as the last probe saw it.
struct ShardOffer: Sendable {
    let name: String
    let tools: [Tool]
    var prompts: [Prompt] = []
    var resources: [Resource] = []
}

/// The aggregated catalog at one moment: immutable, so `tools/list` and routing read it without
/// waiting on any shard.
struct CatalogSnapshot: Sendable {
    let tools: [Tool]
    let routes: [String: ShardRoute]
    let prompts: [Prompt]
    let promptRoutes: [String: ShardRoute]
    /// Resources keep their URIs (clients read them by URI); only their names are prefixed.
    let resources: [Resource]
    let resourceShards: [String: String]
    /// Human-readable collision reports for `/health` and logs.
    let collisions: [String]
    /// `tools/list`, `prompts/list` and `resources/list` results, encoded once per snapshot: Open
    /// WebUI lists tools before every chat message, and encoding the list is most of that request.
    let encodedLists: EncodedLists

    struct EncodedLists: Sendable {
        let tools: Data
        let prompts: Data
        let resources: Data

        init(tools: [Tool], prompts: [Prompt], resources: [Resource]) {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .withoutEscapingSlashes
            self.tools = (try? encoder.encode(ListTools.Result(tools: tools))) ?? Data("{}".utf8)
            self.prompts = (try? encoder.encode(ListPrompts.Result(prompts: prompts))) ?? Data("{}".utf8)
            self.resources = (try? encoder.encode(ListResources.Result(resources: resources))) ?? Data("{}".utf8)
        }
    }

    init(
        tools: [Tool], routes: [String: ShardRoute], prompts: [Prompt], promptRoutes: [String: ShardRoute],
        resources: [Resource], resourceShards: [String: String], collisions: [String]
    ) {
        self.tools = tools
        self.routes = routes
        self.prompts = prompts
        self.promptRoutes = promptRoutes
        self.resources = resources
        self.resourceShards = resourceShards
        self.collisions = collisions
        self.encodedLists = EncodedLists(tools: tools, prompts: prompts, resources: resources)
    }

    /// What `profile` may see: its filter applied, names sized for its client's prefix.
    static func build(shards: [ShardOffer], for profile: GatewayProfile) -> CatalogSnapshot {
        let visible = shards.map { shard in
            ShardOffer(
                name: shard.name,
                tools: shard.tools.filter { profile.admits(shard: shard.name, tool: $0) },
                prompts: profile.readOnly ? shard.prompts : shard.prompts.filter { profile.admits(shard: shard.name, item: $0.name) },
                resources: shard.resources.filter { profile.admits(shard: shard.name, item: $0.name) })
        }
        return build(shards: visible, clientPrefixLength: profile.clientPrefix.utf8.count)
    }

    static let empty = CatalogSnapshot.build(shards: [])

    /// Names every healthy shard's tools and prompts `<shard>_<name>`. Shards are taken in name
    /// order, so the result is deterministic; a name already taken gets a hash suffix and a
    /// collision report.
    static func build(shards: [ShardOffer], clientPrefixLength: Int = 0) -> CatalogSnapshot {
        var collisions: [String] = []
        var tools: [Tool] = []
        var routes: [String: ShardRoute] = [:]
        var prompts: [Prompt] = []
        var promptRoutes: [String: ShardRoute] = [:]
        var resources: [Resource] = []
        var resourceShards: [String: String] = [:]
        for shard in shards.sorted(by: { $0.name < $1.name }) {
            for tool in shard.tools {
                let name = uniqueName(shard: shard.name, item: tool.name, kind: "tool", prefix: clientPrefixLength, taken: routes, collisions: &collisions)
                routes[name] = ShardRoute(shard: shard.name, originalName: tool.name)
                tools.append(tool.renamed(name))
            }
            for prompt in shard.prompts {
                let name = uniqueName(shard: shard.name, item: prompt.name, kind: "prompt", prefix: clientPrefixLength, taken: promptRoutes, collisions: &collisions)
                promptRoutes[name] = ShardRoute(shard: shard.name, originalName: prompt.name)
                prompts.append(Prompt(name: name, title: prompt.title, description: prompt.description, arguments: prompt.arguments, icons: prompt.icons, meta: prompt._meta))
            }
            for var resource in shard.resources {
                if let owner = resourceShards[resource.uri] {
                    collisions.append("resource '\(resource.uri)' of shard '\(shard.name)' is already served by shard '\(owner)'; hidden")
                    continue
                }
                resourceShards[resource.uri] = shard.name
                resource.name = ToolNaming.qualifiedName(shard: shard.name, tool: resource.name)
                resources.append(resource)
            }
        }
        return CatalogSnapshot(
            tools: tools, routes: routes, prompts: prompts, promptRoutes: promptRoutes,
            resources: resources, resourceShards: resourceShards, collisions: collisions)
    }

    private static func uniqueName(shard: String, item: String, kind: String, prefix: Int, taken: [String: ShardRoute], collisions: inout [String]) -> String {
        let name = ToolNaming.qualifiedName(shard: shard, tool: item, clientPrefixLength: prefix)
        guard let owner = taken[name] else { return name }
        var unique = ToolNaming.qualifiedName(shard: shard, tool: item + "~" + shard, clientPrefixLength: prefix)
        if unique == name || taken[unique] != nil { unique = String(name.prefix(ToolNaming.maximumLength - prefix - 2)) + "-2" }
        collisions.append("\(kind) '\(item)' of shard '\(shard)' would be named '\(name)', already used by '\(owner.originalName)' of shard '\(owner.shard)'; exposed as '\(unique)'")
        return unique
    }
}

extension Tool {
    func renamed(_ name: String) -> Tool {
        Tool(
            name: name, title: title, description: description, inputSchema: inputSchema,
            annotations: annotations, outputSchema: outputSchema, icons: icons, _meta: _meta)
    }
}
