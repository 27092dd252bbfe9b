import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import MCP
import MCPShared
import ServiceKit
import ServiceLifecycle

/// Builds the gateway: `/mcp`, `/health`, `/metrics`, `/api/v1/...`, plus the services that probe
/// shards, watch the config file and keep sessions.
///
/// ```swift
/// let settings = try GatewaySettings(config: ServiceConfig())
/// let app = try await GatewayApplication.build(settings: settings, logger: logger)
/// try await app.runService()
/// ```
public enum GatewayApplication {
    public static func build(
        settings: GatewaySettings, logger: Logger, httpClient: HTTPClient = .shared,
        directory: ShardDirectory = ShardDirectory()
    ) async throws -> some ApplicationProtocol {
        let identity = ServiceIdentity(name: "gateway")
        let catalog = Catalog(httpClient: httpClient, callTimeout: settings.callTimeout, probeTimeout: settings.probeTimeout, logger: logger)
        let sessions = MCPSessionRegistry(settings: settings.endpoint, logger: logger, metricsLabel: "gateway_active_sessions") { _, _ in
            await GatewayMCPServer(catalog: catalog).make()
        }
        catalog.onToolsChanged {
            for server in await sessions.servers {
                try? await server.notify(ToolListChangedNotification.message())
            }
        }
        await directory.onChange { shards in await catalog.setShards(shards) }

        var services: [any Service] = [sessions, ProbeService(catalog: catalog, interval: settings.probeInterval)]
        if let path = settings.configFile {
            // Fail at startup on a broken file; later broken edits keep the last good list.
            let shards = try GatewayConfigFile.load(path: path)
            await directory.update(source: ShardDirectory.fileSource, shards: shards)
            services.append(ConfigFileWatcher(path: path, directory: directory, logger: logger, pollInterval: .seconds(2)))
        }
        await directory.update(source: ShardDirectory.staticSource, shards: settings.staticShards)

        let router = Router()
        router.addMCPEndpoint("/mcp", sessions: sessions, settings: settings.endpoint)
        let api = GatewayAPI(catalog: catalog, maxBodyBytes: settings.endpoint.maxBodyBytes)
        api.addRoutes(to: router)
        router.addServiceEndpoints {
            await health(identity: identity, catalog: catalog)
        }
        return Application(
            router: router, configuration: settings.listen.applicationConfiguration,
            services: services, logger: logger)
    }

    static func health(identity: ServiceIdentity, catalog: Catalog) async -> HealthReport {
        var components: [ComponentHealth] = []
        for connection in catalog.shardConnections { components.append(await connection.health) }
        let down = components.filter { $0.status != .healthy }.count
        // The gateway itself answers even when every shard is down: that is degraded, not down.
        return HealthReport(
            status: down == 0 ? .ok : .degraded, service: identity.name, version: identity.version,
            uptimeSeconds: identity.uptimeSeconds, components: components, warnings: catalog.snapshot.collisions)
    }
}
