import Logging
import MCP
import ServiceKit

/// Builds the SDK `Server` behind one client session: lists come from the catalog snapshot,
/// calls are routed to the owning shard, and progress flows back to this session.
struct GatewayMCPServer {
    static let instructions = "Homelab tools aggregated from several MCP shards. Tool names are <shard>_<tool>."

    let catalog: Catalog
    let profile: String
    let logger: Logger

    func make() async -> Server {
        let server = Server(
            name: "homelab-mcp-gateway", version: SuiteVersion.current,
            instructions: Self.instructions,
            capabilities: .init(
                prompts: .init(listChanged: true), resources: .init(subscribe: false, listChanged: true),
                tools: .init(listChanged: true)))
        let catalog = self.catalog
        let profile = self.profile
        let logger = self.logger
        let session = WeakServer(server)
        // One page each: the catalog is small and clients re-list on every message.
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: catalog.snapshot(for: profile).tools) }
        await server.withMethodHandler(ListPrompts.self) { _ in ListPrompts.Result(prompts: catalog.snapshot(for: profile).prompts) }
        await server.withMethodHandler(ListResources.self) { _ in ListResources.Result(resources: catalog.snapshot(for: profile).resources) }
        await server.withMethodHandler(GetPrompt.self) { params in try await catalog.getPrompt(params.name, arguments: params.arguments, profile: profile) }
        await server.withMethodHandler(ReadResource.self) { params in try await catalog.readResource(params.uri, profile: profile) }
        await server.withMethodHandler(CallTool.self) { params in
            CallerIdentity.log(Server.currentHandlerContext?.httpContext, tool: params.name, logger: logger)
            guard var meta = params._meta, let clientToken = meta.progressToken else {
                return try await catalog.call(params.name, arguments: ShardToolResult.arguments(params.arguments), meta: params._meta, profile: profile).decoded()
            }
            let relayToken = catalog.progressRelay.register(original: clientToken) { progress in
                try? await session.server?.notify(ProgressNotification.message(progress))
            }
            defer { catalog.progressRelay.unregister(relayToken) }
            meta.progressToken = relayToken
            return try await catalog.call(params.name, arguments: ShardToolResult.arguments(params.arguments), meta: meta, profile: profile).decoded()
        }
        return server
    }
}

/// Lets handlers reach their own session's server without a retain cycle (the server holds them).
final class WeakServer: @unchecked Sendable {
    // Written once in init; read-only afterwards.
    weak var server: Server?
    init(_ server: Server) { self.server = server }
}
