import Foundation
import Logging

/// Picks the storage engine: PostgreSQL when `DATABASE_URL` is set, an SQLite file otherwise.
///
/// ```swift
/// let database = try Storage.open(databaseURL: config.string("DATABASE_URL"),
///                                 sqlitePath: config.string("ROUTER_SQLITE_PATH", default: "data/router.sqlite"),
///                                 logger: logger)
/// // Add it to the app's services (PostgreSQL's pool runs there), then migrate before serving:
/// app.addServices(database)
/// app.beforeServerStarts {
///     try await database.migrate([
///         Migration(id: "001-usage", postgres: ["CREATE TABLE usage (id BIGSERIAL PRIMARY KEY, model TEXT NOT NULL, tokens BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL)"],
///                   sqlite: ["CREATE TABLE usage (id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, tokens INTEGER NOT NULL, at REAL NOT NULL)"]),
///     ], logger: logger)
/// }
/// try await database.execute("INSERT INTO usage (model, tokens, at) VALUES ($1, $2, $3)", [.text("gpt"), .int(42), .date(.now)])
/// let rows = try await database.query("SELECT model, tokens FROM usage WHERE tokens > $1", [.int(10)])
/// let model = rows.first?.string("model")
/// ```
public enum Storage {
    /// A PostgreSQL database for a non-empty `databaseURL`, else the SQLite file at `sqlitePath`.
    /// Throws ``DatabaseError`` for a malformed URL (the message never contains the password).
    public static func open(databaseURL: String?, sqlitePath: String, logger: Logger) throws -> any Database {
        if let url = databaseURL?.trimmingCharacters(in: .whitespaces), !url.isEmpty {
            let database = try PostgresDatabase(url: url, logger: logger)
            logger.info("storage: PostgreSQL", metadata: ["database": "\(database.location)"])
            return database
        }
        logger.info("storage: SQLite", metadata: ["path": "\(sqlitePath)"])
        return SQLiteDatabase(path: sqlitePath, logger: logger)
    }
}
