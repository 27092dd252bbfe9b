import Foundation
import MCP
import ShardKit

/// `delete_route`: remove a route this shard created, and confirm Traefik dropped it.
enum DeleteRouteTool {
    struct Deleted: Encodable, Sendable {
        let result: String
        let router: String
        let file: String
        let confirmed: Bool
        let note: String?
    }

    static func make(_ context: TraefikContext) -> ShardTool {
        ShardTool(
            name: "delete_route",
            title: "Delete a Traefik route created by this shard",
            description: """
                Deletes a route that create_route made (its file in the shard's folder) and confirms through Traefik's API \
                that the router is gone. Routes from other files, Docker labels or other providers are refused.
                """,
            inputSchema: JSONSchema.object([
                "name": JSONSchema.string("The route name given to create_route, e.g. grafana (mcp-grafana also works)."),
            ], required: ["name"]),
            annotations: .init(title: "Delete Traefik route", readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false)
        ) { arguments in
            let name = try RouteName.validate(try arguments.requiredString("name"))
            return try await context.changes.run { try await delete(name, context) }
        }
    }

    static func delete(_ name: String, _ context: TraefikContext) async throws -> CallTool.Result {
        let files = context.files
        let fullName = RouteName.prefix + name + "@file"
        guard let text = files.read(name) else {
            let defined = files.definedNames()
            if let file = defined[RouteName.prefix + name] ?? defined[name] {
                return .failure("Route '\(name)' is defined in \(file), which this shard did not create; refusing to delete it. Edit that file by hand.")
            }
            return .failure("There is no route '\(name)' created by this shard (no \(files.path(for: name))). list_routes shows managed: true for the ones it can delete.")
        }
        guard ManagedRouteFile.isOwned(text) else {
            return .failure("\(files.path(for: name)) was not created by this shard (no ownership marker); refusing to delete it.")
        }
        try files.remove(name)
        try files.triggerReload()
        let api = context.api
        let gone = await context.poll { () -> Bool? in try await api.httpRouter(fullName) == nil ? true : nil }
        let confirmed = gone.value == true
        return try .json(Deleted(
            result: "deleted", router: fullName, file: files.path(for: name), confirmed: confirmed,
            note: confirmed ? nil : "The file is removed but Traefik still showed the router after \(TraefikAPI.seconds(context.settings.applyTimeout))\(gone.lastError.map { " (last API error: \($0))" } ?? ""); run reload_config."))
    }
}
