import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import MCP
import MCPShared
import RedisKit
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
        settings: GatewaySettings, logger: Logger, httpClient: HTTPClient = .suite,
        directory: ShardDirectory = ShardDirectory()
    ) async throws -> some ApplicationProtocol {
        let identity = ServiceIdentity(name: "gateway")
        let catalog = Catalog(
            httpClient: httpClient, callTimeout: settings.callTimeout, probeTimeout: settings.probeTimeout,
            profiles: settings.profiles, logger: logger)
        var registries: [MCPSessionRegistry] = []
        var fastEndpoints: [String: ProfileEndpoints] = [:]
        let listeners = ListenStreams(limit: settings.endpoint.maxSessions)
        let router = Router(context: GatewayRequestContext.self)
        let originValidator = OriginHostValidator(allowedOrigins: settings.endpoint.allowedOrigins, allowedHosts: settings.endpoint.allowedHosts)
        for profile in settings.profiles {
            let sessions = MCPSessionRegistry(
                settings: settings.endpoint, logger: logger,
                metricsLabel: "gateway_active_sessions", metricsDimensions: [("profile", profile.name)],
                shortcut: SessionShortcuts(catalog: catalog, profile: profile.name, logger: logger).answer
            ) { _, _ in
                await GatewayMCPServer(catalog: catalog, profile: profile.name, logger: logger).make()
            }
            registries.append(sessions)
            let endpoints = ProfileEndpoints(
                profile: profile, sessions: sessions,
                modern: ModernMCP(
                    catalog: catalog, profile: profile.name, instructions: GatewayMCPServer.instructions, listeners: listeners, logger: logger),
                auth: BearerAuth(tokens: profile.tokens, profile: profile.name), catalog: catalog,
                endpoint: settings.endpoint, trustedNetworks: settings.trustedNetworks, originValidator: originValidator)
            endpoints.addRoutes(to: router)
            for path in endpoints.mcpPaths { fastEndpoints[path] = endpoints }
        }
        catalog.onListsChanged { [registries, listeners] changes in
            listeners.publish(changes)
            for (profile, sessions) in zip(settings.profiles, registries) {
                guard let kinds = changes[profile.name] else { continue }
                for server in await sessions.servers {
                    if kinds.contains(.tools) { try? await server.notify(ToolListChangedNotification.message()) }
                    if kinds.contains(.prompts) { try? await server.notify(PromptListChangedNotification.message()) }
                    if kinds.contains(.resources) { try? await server.notify(ResourceListChangedNotification.message()) }
                }
            }
        }
        await directory.onChange { shards in await catalog.setShards(shards) }

        var services: [any Service] = registries + [ProbeService(catalog: catalog, interval: settings.probeInterval)]
        let configProblem = ComponentProblem(name: "config", endpoint: settings.configFile)
        if let path = settings.configFile {
            // Fail at startup on a broken file; later broken edits keep the last good list.
            let shards = try GatewayConfigFile.load(path: path)
            await directory.update(source: ShardDirectory.fileSource, shards: shards)
            services.append(ConfigFileWatcher(path: path, directory: directory, problem: configProblem, logger: logger, pollInterval: .seconds(2)))
        }
        await directory.update(source: ShardDirectory.staticSource, shards: settings.staticShards)
        if settings.discoveryURL != nil || settings.redisURL != nil {
            services.append(DiscoveryFeed(
                directory: directory, discoveryURL: settings.discoveryURL,
                redis: try settings.redisURL.map { try RedisConfiguration(url: $0) }, httpClient: httpClient, logger: logger))
        }

        let defaultProfile = settings.profiles.first { $0.name == GatewayProfile.defaultName }!
        let api = GatewayAPI(
            catalog: catalog, maxBodyBytes: settings.endpoint.maxBodyBytes,
            auth: BearerAuth(tokens: defaultProfile.tokens, profile: defaultProfile.name),
            profiles: settings.profiles, publicURL: settings.publicURL, internalURL: settings.internalURL)
        api.addRoutes(to: router)
        router.addServiceEndpoints {
            await health(identity: identity, catalog: catalog, problems: [configProblem])
        }
        return Application(
            router: router, server: FastToolCalls(endpoints: fastEndpoints, maxBodyBytes: settings.endpoint.maxBodyBytes).server,
            configuration: settings.listen.applicationConfiguration, services: services, logger: logger)
    }

    static func health(identity: ServiceIdentity, catalog: Catalog, problems: [ComponentProblem]) async -> HealthReport {
        let components = await catalog.shardHealth() + problems.compactMap(\.component)
        let down = components.filter { $0.status != .healthy }.count
        // The gateway itself answers even when every shard is down: that is degraded, not down.
        return HealthReport(
            status: down == 0 ? .ok : .degraded, service: identity.name, version: identity.version,
            uptimeSeconds: identity.uptimeSeconds, components: components, warnings: catalog.collisions)
    }
}
