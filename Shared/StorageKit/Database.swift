import Foundation
import Logging
import MCPShared
import ServiceKit
import ServiceLifecycle

/// Which engine a ``Database`` runs on; migrations carry SQL for each.
public enum DatabaseEngine: String, Sendable {
    case postgres
    case sqlite
}

/// A SQL database both engines implement. Placeholders are `$1`, `$2`, ... on both (rewritten
/// to SQLite's `?1`, `?2`); write SQL both understand (`INSERT ... ON CONFLICT`, `RETURNING`) or
/// branch on ``engine``. The database is a `Service`: add it to the application's services.
public protocol Database: Service, Sendable {
    var engine: DatabaseEngine { get }
    /// Runs a statement that returns no rows.
    func execute(_ sql: String, _ parameters: [SQLValue]) async throws
    /// Runs a query and collects its rows.
    func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [SQLRow]
}

extension Database {
    public func execute(_ sql: String) async throws {
        try await execute(sql, [])
    }

    public func query(_ sql: String) async throws -> [SQLRow] {
        try await query(sql, [])
    }

    /// Applies the migrations not applied yet, in order, recording each in `schema_migrations`.
    /// Safe to run from several processes sharing one database: applied ids are skipped.
    public func migrate(_ migrations: [Migration], logger: Logger) async throws {
        try await execute("CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        let applied = Set(try await query("SELECT id FROM schema_migrations").compactMap { $0.string("id") })
        for migration in migrations where !applied.contains(migration.id) {
            for statement in migration.statements(for: engine) {
                try await execute(statement)
            }
            try await execute(
                "INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
                [.text(migration.id), .text(Date().ISO8601Format())])
            logger.info("applied database migration", metadata: ["migration": "\(migration.id)", "engine": "\(engine.rawValue)"])
        }
    }
}

/// One schema change, with a statement list per engine (PostgreSQL runs one statement per call).
public struct Migration: Sendable {
    public var id: String
    public var postgres: [String]
    public var sqlite: [String]

    public init(id: String, postgres: [String], sqlite: [String]) {
        self.id = id
        self.postgres = postgres
        self.sqlite = sqlite
    }

    /// The same statements on both engines.
    public init(id: String, statements: [String]) {
        self.init(id: id, postgres: statements, sqlite: statements)
    }

    func statements(for engine: DatabaseEngine) -> [String] {
        engine == .postgres ? postgres : sqlite
    }
}

/// Why a database call failed; never contains the password.
public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

extension Database {
    /// The database as a `/health` component: `SELECT 1` answered within `timeout`.
    public func health(name: String = "database", timeout: Duration = .seconds(2)) async -> ComponentHealth {
        let started = ContinuousClock.now
        do {
            _ = try await withDeadline(timeout, "no answer from the database") { try await self.query("SELECT 1") }
            return ComponentHealth(name: name, status: .healthy, endpoint: engine.rawValue, lastProbe: Date(),
                                   latencyMs: (ContinuousClock.now - started).milliseconds)
        } catch {
            return ComponentHealth(name: name, status: .unhealthy, endpoint: engine.rawValue, lastProbe: Date(), lastError: "\(error)")
        }
    }
}
