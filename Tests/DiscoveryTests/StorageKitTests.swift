import Foundation
import Logging
import ServiceLifecycle
import StorageKit
import Testing
import TestSupport

@Suite("StorageKit on SQLite and a real PostgreSQL")
struct StorageKitTests {
    static let migrations = [
        Migration(
            id: "001-items",
            postgres: ["CREATE TABLE items (id BIGSERIAL PRIMARY KEY, name TEXT UNIQUE NOT NULL, count BIGINT NOT NULL, at TIMESTAMPTZ, tags JSONB NOT NULL DEFAULT '[]', ok BOOLEAN NOT NULL DEFAULT FALSE)"],
            sqlite: ["CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE NOT NULL, count INTEGER NOT NULL, at REAL, tags TEXT NOT NULL DEFAULT '[]', ok INTEGER NOT NULL DEFAULT 0)"]),
        Migration(id: "002-index", statements: ["CREATE INDEX items_count ON items (count)"]),
    ]

    /// The same calls on either engine give the same answers.
    static func exercise(_ database: any Database) async throws {
        let logger = Logger(label: "test")
        try await database.migrate(migrations, logger: logger)
        try await database.migrate(migrations, logger: logger)  // idempotent
        let now = Date(timeIntervalSince1970: 1_700_000_000.5)
        let upsert = "INSERT INTO items (name, count, at, tags, ok) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE SET count = excluded.count RETURNING id"
        let first = try await database.query(upsert, [.text("a'b"), .int(1), .date(now), try .json(encoding: ["x", "y"]), .bool(true)])
        #expect(first.first?.int("id") != nil)
        try await database.execute(upsert, [.text("a'b"), .int(5), .null, .json("[]"), .bool(false)])
        try await database.execute(upsert, [.text("c"), .int(2), .null, .json("[]"), .bool(false)])
        let rows = try await database.query("SELECT name, count, at, tags, ok FROM items WHERE count > $1 ORDER BY name", [.int(0)])
        #expect(rows.count == 2)
        #expect(rows[0].string("name") == "a'b")
        #expect(rows[0].int("count") == 5)
        #expect(rows[0].date("at")?.timeIntervalSince1970 == now.timeIntervalSince1970)
        #expect(try rows[0].decodeJSON([String].self, "tags") == ["x", "y"])
        #expect(rows[0].bool("ok") == true)
        #expect(rows[1].date("at") == nil)
        await #expect(throws: DatabaseError.self) { try await database.execute("SELECT * FROM no_such_table") }
    }

    @Test func sqliteFileIsTheDefault() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("storage-\(UUID().uuidString)/sub/test.sqlite").path
        let database = try Storage.open(databaseURL: nil, sqlitePath: path, logger: Logger(label: "test"))
        #expect(database.engine == .sqlite)
        try await Self.exercise(database)
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test func placeholdersInsideStringsAreLeftAlone() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("storage-\(UUID().uuidString).sqlite").path
        let database = try Storage.open(databaseURL: "", sqlitePath: path, logger: Logger(label: "test"))
        let rows = try await database.query("SELECT '$1' AS literal, $1 AS bound", [.text("value")])
        #expect(rows.first?.string("literal") == "$1")
        #expect(rows.first?.string("bound") == "value")
    }

    @Test func badURLsAreClearErrorsWithoutThePassword() {
        for url in ["mysql://u:hunter2@h/db", "postgres://:hunter2@/db", "postgres://u:hunter2@h/db?sslmode=require"] {
            do {
                _ = try Storage.open(databaseURL: url, sqlitePath: "/tmp/x", logger: Logger(label: "test"))
                Issue.record("accepted \(url)")
            } catch {
                #expect(!"\(error)".contains("hunter2"))
            }
        }
    }

    @Test func postgresWhenDatabaseURLIsSet() async throws {
        let server = try await LocalPostgres.start()
        defer { server.stop() }
        let database = try Storage.open(databaseURL: server.url, sqlitePath: "/unused", logger: Logger(label: "test"))
        #expect(database.engine == .postgres)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await database.run() }
            try await Self.exercise(database)
            // A restart of PostgreSQL: the pool reconnects, the data is still there.
            server.stop()
            await #expect(throws: (any Error).self) { try await database.query("SELECT 1") }
            try await server.start()
            #expect(await eventually(within: .seconds(5)) { (try? await database.query("SELECT count(*) AS n FROM items"))?.first?.int("n") == 2 })
            group.cancelAll()
        }
    }

    /// A query that outlives the query timeout fails with an error that says so, promptly.
    @Test func postgresQueryTimeoutIsAClearError() async throws {
        let server = try await LocalPostgres.start()
        defer { server.stop() }
        let database = try PostgresDatabase(url: server.url, logger: Logger(label: "test"), queryTimeout: .milliseconds(300))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            let clock = ContinuousClock()
            let started = clock.now
            do {
                _ = try await database.query("SELECT pg_sleep(5)")
                Issue.record("a 5 s query returned within a 300 ms timeout")
            } catch let error as DatabaseError {
                #expect("\(error)".contains("did not answer within"))
            }
            #expect(clock.now - started < .seconds(3))
            #expect(try await database.query("SELECT 1 AS one").first?.int("one") == 1)
            group.cancelAll()
        }
    }
}
