import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import MCPShared
import RedisKit
import ServiceKit
import ServiceLifecycle
import StorageKit

/// Builds the router: the OpenAI-compatible API, `/health`, `/metrics`, and the config watcher.
///
/// ```swift
/// let settings = try RouterSettings(config: ServiceConfig())
/// let app = try await RouterApplication.build(settings: settings, logger: logger)
/// try await app.runService()
/// ```
public enum RouterApplication {
    public static func build(
        settings: RouterSettings, logger: Logger, httpClient: HTTPClient = .suite,
        usage: (any UsageStore)? = nil, cache: (any ResponseCache)? = nil
    ) async throws -> some ApplicationProtocol {
        let identity = ServiceIdentity(name: "multi-model-router")
        let config: RouterConfig
        do { config = try RouterConfig.load(path: settings.configFile, environment: settings.environment) } catch {
            throw ConfigurationError(variable: "ROUTER_CONFIG", reason: "\(error)")
        }
        if settings.apiKeys.isEmpty {
            logger.warning("ROUTER_MASTER_KEY is not set: the router accepts requests without a key")
        }
        for d in config.deployments where d.apiKeySource != nil && d.apiKey == nil {
            logger.warning("API key variable not set; this deployment will be skipped", metadata: ["model_name": "\(d.name)", "variable": "\(d.apiKeySource!)"])
        }
        let store = ConfigStore(config)
        let memory = ConversationMemory()
        let health = DeploymentHealth()
        let dispatcher = Dispatcher(adapters: ProviderAdapters(client: httpClient, memory: memory, logger: logger), health: health, logger: logger)
        var services: [any Service] = []
        var beforeStart: [@Sendable () async throws -> Void] = []
        var usageStore = usage
        if usageStore == nil {
            let database: any Database
            do {
                if settings.databaseURL == nil {
                    try FileManager.default.createDirectory(atPath: (settings.sqlitePath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                }
                database = try Storage.open(databaseURL: settings.databaseURL, sqlitePath: settings.sqlitePath, logger: logger)
            } catch {
                throw ConfigurationError(variable: settings.databaseURL == nil ? "ROUTER_SQLITE_PATH" : "DATABASE_URL", reason: "cannot be used: \(error)")
            }
            services.append(database)
            beforeStart.append { try await database.migrate(SQLUsageStore.migrations, logger: logger) }
            let recorder = UsageRecorder(store: SQLUsageStore(database: database, logger: logger))
            // After the database in the list: groups stop in reverse order, so the queue drains first.
            services.append(recorder)
            usageStore = recorder
        }
        var responseCache = cache
        if responseCache == nil, let url = settings.redisURL {
            let redis: RedisClient
            do { redis = try RedisClient(url: url, logger: logger) } catch {
                throw ConfigurationError(variable: "REDIS_URL", reason: "is not a usable Redis URL")
            }
            services.append(redis)
            responseCache = RedisResponseCache(client: redis, logger: logger)
        }
        let api = RouterAPI(
            settings: settings, configs: store, engine: RoutingEngine(logger: logger), dispatcher: dispatcher,
            usage: usageStore ?? InMemoryUsageStore(), cache: responseCache ?? InMemoryResponseCache(maxEntries: config.cacheMaxEntries), logger: logger)
        let router = Router(context: DisconnectAwareRequestContext.self)
        api.addRoutes(to: router)
        let configProblem = ComponentProblem(name: "config", endpoint: settings.configFile)
        router.addServiceEndpoints {
            let components = health.report().map { ComponentHealth(name: $0.0, status: $0.1 ? .unhealthy : .healthy) } + [configProblem.component].compactMap { $0 }
            let cooling = components.filter { $0.status != .healthy }.count
            return HealthReport(status: cooling == 0 ? .ok : .degraded, service: identity.name, version: identity.version,
                                uptimeSeconds: identity.uptimeSeconds, components: components)
        }
        let watcher = ConfigWatcher(
            path: settings.configFile, environment: settings.environment, store: store, interval: settings.configPollInterval, problem: configProblem, logger: logger)
        var app = Application(
            router: router, server: ChatLane(api: api).server, configuration: settings.listen.applicationConfiguration,
            services: services + [watcher], logger: logger)
        for step in beforeStart { app.beforeServerStarts(perform: step) }
        return app
    }
}
