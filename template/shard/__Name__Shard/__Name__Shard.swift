import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import MCPShared
import ServiceKit
import ServiceLifecycle
import ShardKit

/// The {{title}} shard: {{description}}
///
/// ```swift
/// let app = {{Name}}Shard.build(settings: try {{Name}}Settings(config: ServiceConfig()), logger: logger)
/// try await app.runService()
/// ```
public enum {{Name}}Shard {
    /// For the shard's own `HTTPClient`: no retrying of refused connections, so "{{title}} is down"
    /// is reported at once instead of after the request timeout.
    public static var httpClientConfiguration: HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(3))
        return configuration
    }

    public static func definition(settings: {{Name}}Settings, http: HTTPClient, logger: Logger) -> ShardDefinition {
        let context = {{Name}}Context(settings: settings, http: http, logger: logger)
        return ShardDefinition(
            name: "{{name}}", version: SuiteVersion.current,
            description: "{{description}}",
            docsURL: settings.docsURL.isEmpty ? nil : settings.docsURL,
            tools: [
                StatusTool.make(context),
                DocsTool.make(context),
            ])
    }

    /// The shard with an HTTP client of its own, shut down after the server.
    public static func build(settings: {{Name}}Settings, logger: Logger) -> some ApplicationProtocol {
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpClientConfiguration)
        return build(settings: settings, http: http, logger: logger, services: [HTTPClientService(client: http)])
    }

    public static func build(settings: {{Name}}Settings, http: HTTPClient, logger: Logger, services: [any Service] = []) -> some ApplicationProtocol {
        // /health must answer fast even when {{title}} is slow: a short timeout of its own.
        let api = {{Name}}API(settings: settings, client: http, timeout: min(settings.requestTimeout, .milliseconds(500)))
        return ShardApplication.build(
            definition: definition(settings: settings, http: http, logger: logger), settings: settings.shard, logger: logger,
            health: { [await apiHealth(api)] }, services: services)
    }

    /// {{title}} as a health component: the shard is degraded when it cannot reach it.
    static func apiHealth(_ api: {{Name}}API) async -> ComponentHealth {
        let started = ContinuousClock.now
        do {
            let response = try await api.get(api.statusPath)
            let elapsed = ContinuousClock.now - started
            let healthy = response.status < 500
            return ComponentHealth(
                name: "{{name}}-api", status: healthy ? .healthy : .unhealthy, endpoint: api.baseURL, lastProbe: Date(),
                latencyMs: Double(elapsed / .microseconds(1)) / 1000, lastError: healthy ? nil : "HTTP \(response.status)")
        } catch {
            return ComponentHealth(name: "{{name}}-api", status: .unhealthy, endpoint: api.baseURL, lastProbe: Date(), lastError: "\(error)")
        }
    }
}
