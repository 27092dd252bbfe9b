import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import MCPShared
import RedisKit
import ServiceKit
import ServiceLifecycle
import StorageKit

/// Builds the discovery service: watches Docker (and the static file), health-checks every server
/// at the MCP level, keeps the registry in PostgreSQL or SQLite, mirrors it to Redis, feeds the
/// gateway over HTTP, and announces new servers to the PR bot.
///
/// ```swift
/// let settings = try DiscoverySettings(config: ServiceConfig())
/// let app = try await DiscoveryApplication.build(settings: settings, logger: logger)
/// try await app.runService()
/// ```
public enum DiscoveryApplication {
    public static func build(settings: DiscoverySettings, logger: Logger, httpClient: HTTPClient = .suite) async throws -> some ApplicationProtocol {
        let identity = ServiceIdentity(name: "discovery")
        let registry = Registry(logger: logger, removeGrace: settings.removeGrace)
        var services: [any Service] = []

        if let path = settings.staticFile {
            // A broken file fails startup; it is read once (restart discovery after editing it).
            let entries = try StaticServers.load(path: path)
            await registry.replace(source: { $0.source == .file }, with: entries)
        }

        let database: any Database
        do {
            database = try Storage.open(databaseURL: settings.databaseURL, sqlitePath: settings.sqlitePath, logger: logger)
        } catch {
            throw ConfigurationError(variable: "DATABASE_URL", reason: "\(error)")
        }
        let store = RegistryStore(database: database, registry: registry, removeGrace: settings.removeGrace, logger: logger)
        // The database first: the service group stops in reverse order, so the store's last write still has it.
        services.append(database)
        services.append(store)

        var docker: DockerWatcher?
        if let host = settings.dockerHost {
            let client = DockerClient(endpoint: try DockerEndpoint(host), httpClient: httpClient, logger: logger)
            let labels = LabelReader(prefix: settings.labelPrefix, preferredNetwork: settings.preferredNetwork)
            let watcher = DockerWatcher(docker: client, labels: labels, registry: registry, interval: settings.relistInterval, logger: logger)
            docker = watcher
            services.append(watcher)
        }
        services.append(HealthChecker(registry: registry, httpClient: httpClient, interval: settings.healthInterval, timeout: settings.healthTimeout, logger: logger))

        var redisPublisher: RedisPublisher?
        if let url = settings.redisURL {
            let redis = try RedisClient(url: url, logger: logger)
            let publisher = RedisPublisher(redis: redis, registry: registry, logger: logger)
            redisPublisher = publisher
            services.append(redis)
            services.append(publisher)
        }
        if let url = settings.prAutomationURL {
            services.append(Announcer(baseURL: url, registry: registry, store: store, httpClient: httpClient, logger: logger))
        }

        let dockerWatcher = docker
        let redisHealth = redisPublisher
        let router = Router()
        DiscoveryAPI(registry: registry, keepAlive: .seconds(15)).addRoutes(to: router)
        router.addServiceEndpoints {
            var components: [ComponentHealth] = []
            if let dockerWatcher { components.append(await dockerWatcher.health) }
            components.append(await store.health)
            if let redisHealth { components.append(await redisHealth.health) }
            let down = components.filter { $0.status == .unhealthy }.count
            let servers = await registry.records(includeGone: false)
            let unhealthy = servers.filter { $0.healthStatus == .unhealthy }.map { "server \($0.name) is unhealthy: \($0.metadata["last_error"] ?? "")" }
            return HealthReport(
                status: down == 0 ? .ok : .degraded, service: identity.name, version: identity.version,
                uptimeSeconds: identity.uptimeSeconds, components: components, warnings: unhealthy)
        }
        return Application(router: router, server: .suiteHTTP1(), configuration: settings.listen.applicationConfiguration, services: services, logger: logger)
    }
}
