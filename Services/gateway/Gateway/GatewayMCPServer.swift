import Logging
import MCP
import ServiceKit

/// Builds the SDK `Server` behind one client session: `tools/list` from the catalog snapshot,
/// `tools/call` routed to the owning shard.
struct GatewayMCPServer {
    static let instructions = "Homelab tools aggregated from several MCP shards. Tool names are <shard>_<tool>."

    let catalog: Catalog

    func make() async -> Server {
        let server = Server(
            name: "homelab-mcp-gateway", version: SuiteVersion.current,
            instructions: Self.instructions,
            capabilities: .init(tools: .init(listChanged: true)))
        let catalog = self.catalog
        await server.withMethodHandler(ListTools.self) { _ in
            // One page: the catalog is small and clients re-list on every message.
            ListTools.Result(tools: catalog.snapshot.tools)
        }
        await server.withMethodHandler(CallTool.self) { params in
            try await catalog.call(params.name, arguments: params.arguments, meta: params._meta)
        }
        return server
    }
}
