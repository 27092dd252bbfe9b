import Foundation
import Logging
import StorageKit

/// PR records in the suite's database (PostgreSQL or SQLite, see `StorageKit.Storage`), one row
/// per (repository, service).
public struct DatabasePRRecordStore: PRRecordStore {
    let database: any Database
    let repository: String
    let logger: Logger
    private let schema = SchemaGate()

    public init(database: any Database, repository: RepositoryName, logger: Logger) {
        self.database = database
        self.repository = repository.description
        self.logger = logger
    }

    public static let migrations = [
        Migration(
            id: "pr-automation-001-records",
            postgres: [
                """
                CREATE TABLE IF NOT EXISTS pr_automation_records (
                    repository TEXT NOT NULL, service TEXT NOT NULL, fingerprint TEXT NOT NULL, branch TEXT NOT NULL,
                    path TEXT NOT NULL, pr_number BIGINT, url TEXT, state TEXT NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (repository, service))
                """,
            ],
            sqlite: [
                """
                CREATE TABLE IF NOT EXISTS pr_automation_records (
                    repository TEXT NOT NULL, service TEXT NOT NULL, fingerprint TEXT NOT NULL, branch TEXT NOT NULL,
                    path TEXT NOT NULL, pr_number INTEGER, url TEXT, state TEXT NOT NULL,
                    created_at REAL NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (repository, service))
                """,
            ]),
    ]

    /// Migrates on first use, once, with every early caller waiting for the same run: the database
    /// may be down at startup (it is retried on the next call), and concurrent first calls must not
    /// open the database twice.
    public func migrate() async throws {
        try await schema.ensure { [database, logger] in try await database.migrate(Self.migrations, logger: logger) }
    }

    public func save(_ record: PRRecord) async throws {
        try await migrate()
        try await database.execute(
            """
            INSERT INTO pr_automation_records (repository, service, fingerprint, branch, path, pr_number, url, state, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            ON CONFLICT (repository, service) DO UPDATE SET fingerprint = excluded.fingerprint, branch = excluded.branch,
                path = excluded.path, pr_number = excluded.pr_number, url = excluded.url, state = excluded.state,
                updated_at = excluded.updated_at
            """,
            [
                .text(repository), .text(record.service), .text(record.fingerprint), .text(record.branch), .text(record.path),
                record.prNumber.map { .int(Int64($0)) } ?? .null, record.url.map { .text($0) } ?? .null, .text(record.state.rawValue),
                .date(record.createdAt), .date(record.updatedAt),
            ])
    }

    public func all() async throws -> [PRRecord] {
        try await migrate()
        return try await database.query("SELECT * FROM pr_automation_records WHERE repository = $1 ORDER BY service", [.text(repository)]).compactMap(Self.record)
    }

    public func find(service: String) async throws -> PRRecord? {
        try await migrate()
        return try await database.query(
            "SELECT * FROM pr_automation_records WHERE repository = $1 AND service = $2", [.text(repository), .text(service)]
        ).first.flatMap(Self.record)
    }

    static func record(_ row: SQLRow) -> PRRecord? {
        guard let service = row.string("service"), let fingerprint = row.string("fingerprint"), let branch = row.string("branch"),
              let path = row.string("path"), let state = row.string("state").flatMap(PRRecord.State.init(rawValue:)),
              let created = row.date("created_at"), let updated = row.date("updated_at")
        else { return nil }
        return PRRecord(
            service: service, fingerprint: fingerprint, branch: branch, path: path, prNumber: row.int("pr_number").map(Int.init),
            url: row.string("url"), state: state, createdAt: created, updatedAt: updated)
    }
}

/// One migration run shared by every caller; a failed run is retried by the next caller.
actor SchemaGate {
    private var run: Task<Void, any Error>?

    func ensure(_ body: @escaping @Sendable () async throws -> Void) async throws {
        let task = run ?? Task { try await body() }
        run = task
        do {
            try await task.value
        } catch {
            if run == task { run = nil }
            throw error
        }
    }
}
