import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import MCPShared
import ServiceKit
import ServiceLifecycle
import StorageKit

/// Builds the PR-automation bot: `/api/v1/create-pr`, `/api/v1/prs`, `/health`, `/metrics`.
///
/// ```swift
/// let settings = try PRAutomationSettings(config: ServiceConfig())
/// let app = try await PRAutomationApplication.build(settings: settings, logger: logger)
/// try await app.runService()
/// ```
public enum PRAutomationApplication {
    public static func build(
        settings: PRAutomationSettings, logger: Logger, httpClient: HTTPClient = .suite, store: (any PRRecordStore)? = nil
    ) async throws -> some ApplicationProtocol {
        let identity = ServiceIdentity(name: "pr-automation")
        var services: [any Service] = []
        let records: any PRRecordStore
        var database: (any Database)?
        if let store {
            records = store
        } else {
            let opened: any Database
            do {
                opened = try Storage.open(databaseURL: settings.databaseURL, sqlitePath: settings.sqlitePath, logger: logger)
            } catch {
                throw ConfigurationError(variable: "DATABASE_URL", reason: "cannot be used: \(error)")
            }
            // First in the group, so it stops after everything that writes to it.
            services.append(opened)
            database = opened
            // Migrated on first use (the recovery service's first lookup), so a database that is
            // down at startup is retried instead of stopping the bot.
            records = DatabasePRRecordStore(database: opened, repository: settings.github.repository, logger: logger)
        }
        let client = GitHubClient(settings: settings.github, httpClient: httpClient, logger: logger)
        let flow = PRFlow(
            client: client, template: settings.template, pathTemplate: settings.pathTemplate,
            imageTemplate: settings.imageTemplate, store: records, logger: logger)
        let router = Router()
        PRAutomationAPI(flow: flow, store: records, maxBodyBytes: settings.maxBodyBytes).addRoutes(to: router)
        router.addServiceEndpoints { [database] in
            // The database is asked; GitHub is reported from the last request to it (asking it on
            // every health check would spend the rate limit).
            var components = [client.health]
            if let database { components.append(await database.health(name: "records")) }
            let failing = components.contains { $0.status == .unhealthy }
            return HealthReport(status: failing ? .degraded : .ok, service: identity.name, version: identity.version,
                                uptimeSeconds: identity.uptimeSeconds, components: components)
        }
        logger.info("pr-automation ready", metadata: [
            "repository": "\(settings.github.repository)", "api": "\(settings.github.apiURL)",
            "template": "\(settings.template.source)", "path_template": "\(settings.pathTemplate.template)",
        ])
        services.append(RecordRecoveryService(flow: flow, logger: logger))
        return Application(router: router, server: .suiteHTTP1(), configuration: settings.listen.applicationConfiguration, services: services, logger: logger)
    }
}
