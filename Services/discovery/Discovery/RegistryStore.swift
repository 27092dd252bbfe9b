import Foundation
import Logging
import MCPShared
import ServiceLifecycle
import StorageKit

/// Mirrors the registry into `mcp_servers` (PostgreSQL or SQLite): migrates on start, rewrites
/// every row after each change and every few seconds, and marks rows not seen for the grace period
/// `removed`. When the database is down it keeps trying; the next successful write carries the
/// whole current registry, so nothing is lost.
actor RegistryStore: Service {
    static let migrations = [
        Migration(
            id: "discovery-001-mcp-servers",
            postgres: [
                """
                CREATE TABLE IF NOT EXISTS mcp_servers (
                    id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, type TEXT NOT NULL, endpoint TEXT NOT NULL,
                    health_status TEXT NOT NULL DEFAULT 'unknown', capabilities JSONB NOT NULL DEFAULT '[]'::jsonb,
                    last_seen TIMESTAMPTZ, metadata JSONB NOT NULL DEFAULT '{}'::jsonb, created_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """,
                "CREATE TABLE IF NOT EXISTS mcp_announcements (name TEXT PRIMARY KEY, announced_at TIMESTAMPTZ NOT NULL, outcome TEXT NOT NULL)",
            ],
            sqlite: [
                """
                CREATE TABLE IF NOT EXISTS mcp_servers (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, type TEXT NOT NULL, endpoint TEXT NOT NULL,
                    health_status TEXT NOT NULL DEFAULT 'unknown', capabilities TEXT NOT NULL DEFAULT '[]',
                    last_seen REAL, metadata TEXT NOT NULL DEFAULT '{}', created_at REAL NOT NULL DEFAULT (CAST(strftime('%s','now') AS REAL)))
                """,
                "CREATE TABLE IF NOT EXISTS mcp_announcements (name TEXT PRIMARY KEY, announced_at REAL NOT NULL, outcome TEXT NOT NULL)",
            ]),
    ]

    let database: any Database
    let registry: Registry
    let removeGrace: Duration
    let logger: Logger
    private(set) var health = ComponentHealth(name: "database", status: .unknown)
    private var migrated = false

    init(database: any Database, registry: Registry, removeGrace: Duration, logger: Logger) {
        self.database = database
        self.registry = registry
        self.removeGrace = removeGrace
        self.logger = logger
        self.health.endpoint = database.engine.rawValue
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var wait = Duration.milliseconds(200)
            while !Task.isCancelled {
                let seen = self.registry.signal.version
                let ok = await self.syncOnce()
                wait = ok ? .seconds(5) : Swift.min(wait * 2, .seconds(5))
                // Wake on the next change, or after `wait` (periodic refresh, or retry after a failure).
                await self.registry.signal.wait(after: seen, timeout: wait)
            }
        }
        // One last write on shutdown, so a clean stop leaves the table current.
        _ = await syncOnce()
    }

    /// Makes sure the schema exists (retried until the database answers).
    func ensureMigrated() async throws {
        guard !migrated else { return }
        try await database.migrate(Self.migrations, logger: logger)
        migrated = true
    }

    @discardableResult
    func syncOnce() async -> Bool {
        do {
            try await ensureMigrated()
            let now = Date()
            for record in await registry.records(includeGone: true) {
                try await upsert(record)
            }
            // Rows not seen for the grace period (also from earlier runs) are kept, marked removed.
            try await database.execute(
                "UPDATE mcp_servers SET health_status = 'removed' WHERE health_status <> 'removed' AND (last_seen IS NULL OR last_seen < $1)",
                [.date(now.addingTimeInterval(-Registry.seconds(removeGrace)))])
            if health.status != .healthy, health.lastError != nil {
                logger.info("registry database reachable again; registry rewritten", metadata: ["engine": "\(database.engine.rawValue)"])
            }
            health.status = .healthy
            health.lastError = nil
            health.lastProbe = now
            return true
        } catch {
            if health.lastError != "\(error)" {
                logger.error("registry database write failed; serving from memory and retrying", metadata: ["error": "\(error)"])
            }
            health.status = .unhealthy
            health.lastError = "\(error)"
            health.lastProbe = Date()
            return false
        }
    }

    private func upsert(_ record: RegistryRecord) async throws {
        try await database.execute(
            """
            INSERT INTO mcp_servers (name, type, endpoint, health_status, capabilities, last_seen, metadata)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (name) DO UPDATE SET type = excluded.type, endpoint = excluded.endpoint,
                health_status = excluded.health_status, capabilities = excluded.capabilities,
                last_seen = excluded.last_seen, metadata = excluded.metadata
            """,
            [
                .text(record.name), .text(record.type), .text(record.endpoint), .text(record.healthStatus.rawValue),
                try .json(encoding: record.capabilities), record.lastSeen.map(SQLValue.date) ?? .null,
                try .json(encoding: record.metadata),
            ])
    }

    // MARK: - Announcements (at most once per server, remembered across restarts)

    func announcedNames() async throws -> Set<String> {
        try await ensureMigrated()
        return Set(try await database.query("SELECT name FROM mcp_announcements").compactMap { $0.string("name") })
    }

    func recordAnnouncement(_ name: String, outcome: String) async throws {
        try await ensureMigrated()
        try await database.execute(
            "INSERT INTO mcp_announcements (name, announced_at, outcome) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
            [.text(name), .date(Date()), .text(outcome)])
    }
}
