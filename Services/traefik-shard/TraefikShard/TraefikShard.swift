import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import MCPShared
import ServiceKit
import ServiceLifecycle
import ShardKit

/// The Traefik shard: route management for Traefik v3 through its API and file provider.
///
/// ```swift
/// let app = TraefikShard.build(settings: try TraefikSettings(config: ServiceConfig()), logger: logger)
/// try await app.runService()
/// ```
public enum TraefikShard {
    /// For the shard's own `HTTPClient`: no retrying of refused connections, so "Traefik is down"
    /// is reported at once instead of after the request timeout.
    public static var httpClientConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(3))
        return configuration
    }

    public static func definition(settings: TraefikSettings, http: HTTPClient, logger: Logger) -> ShardDefinition {
        let context = TraefikContext(settings: settings, http: http, logger: logger)
        return ShardDefinition(
            name: "traefik", version: SuiteVersion.current,
            description: "Manage the homelab's Traefik v3: list, create and delete routes safely (validated, confirmed, rolled back on error), check backends and TLS certificates, read Traefik's docs.",
            docsURL: settings.docsURL,
            tools: [
                StatusTool.make(context),
                ListRoutesTool.make(context),
                CreateRouteTool.make(context),
                DeleteRouteTool.make(context),
                ValidateConfigTool.make(context),
                BackendStatusTool.make(context),
                SSLStatusTool.make(context),
                ReloadConfigTool.make(context),
                DocsTool.make(context),
            ])
    }

    /// The shard with an HTTP client of its own, shut down after the server.
    public static func build(settings: TraefikSettings, logger: Logger) -> some ApplicationProtocol {
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpClientConfiguration)
        return build(settings: settings, http: http, logger: logger, services: [HTTPClientService(client: http)])
    }

    public static func build(settings: TraefikSettings, http: HTTPClient, logger: Logger, services: [any Service] = []) -> some ApplicationProtocol {
        // /health must answer fast even when Traefik is slow: a short timeout of its own.
        let api = TraefikAPI(baseURL: settings.apiURL, client: http, timeout: min(settings.requestTimeout, .milliseconds(500)))
        return ShardApplication.build(
            definition: definition(settings: settings, http: http, logger: logger), settings: settings.shard, logger: logger,
            health: { [await apiHealth(api)] }, services: services)
    }

    /// Traefik's API as a health component: the shard is degraded when it cannot see Traefik.
    static func apiHealth(_ api: TraefikAPI) async -> ComponentHealth {
        let started = ContinuousClock.now
        do {
            _ = try await api.version()
            let elapsed = ContinuousClock.now - started
            return ComponentHealth(
                name: "traefik-api", status: .healthy, endpoint: api.baseURL, lastProbe: Date(),
                latencyMs: elapsed.milliseconds)
        } catch {
            return ComponentHealth(name: "traefik-api", status: .unhealthy, endpoint: api.baseURL, lastProbe: Date(), lastError: "\(error)")
        }
    }
}
