import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import SQLiteNIO

/// An SQLite file through sqlite-nio (its calls run on NIO's blocking thread pool). One
/// connection, opened on first use; the parent directory is created if missing.
public actor SQLiteDatabase: Database {
    public nonisolated let engine = DatabaseEngine.sqlite
    public nonisolated let path: String
    private let logger: Logger
    private var connection: SQLiteConnection?
    /// Rewritten SQL by original text: callers reuse a few constant statements, and rewriting one
    /// per query was 2 % of the router's CPU per request. Bounded in case a caller builds SQL.
    private var rewritten: [String: String] = [:]

    public init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    deinit {
        // Not run as a service (a test, a tool): close on the thread pool; the pending close keeps
        // the connection alive until done (sqlite-nio insists every connection is closed).
        if let connection { _ = connection.close() }
    }

    /// Closes the file; the next query opens it again.
    public func close() async {
        guard let connection else { return }
        self.connection = nil
        // The future-based close runs to the end even when this task is cancelled; the async one
        // gave up on cancellation and left the connection open, which sqlite-nio traps on.
        let closing: EventLoopFuture<Void> = connection.close()
        try? await closing.get()
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    public func execute(_ sql: String, _ parameters: [SQLValue]) async throws {
        _ = try await query(sql, parameters)
    }

    public func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [SQLRow] {
        let connection = try await open()
        do {
            let rows = try await connection.query(sqliteText(sql), parameters.map(Self.data))
            return rows.map { row in
                var values: [String: SQLValue] = [:]
                for column in row.columns { values[column.name] = Self.value(column.data) }
                return SQLRow(values: values)
            }
        } catch let error as SQLiteError {
            throw DatabaseError("SQLite (\(path)): \(error.message)")
        }
    }

    private func open() async throws -> SQLiteConnection {
        if let connection { return connection }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DatabaseError("SQLite: cannot create directory \(directory): \(error.localizedDescription)")
        }
        let opened: SQLiteConnection
        do {
            opened = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        } catch {
            throw DatabaseError("SQLite: cannot open \(path): \(error)")
        }
        // Readers and the writer may overlap (several processes share the file in tests).
        _ = try? await opened.query("PRAGMA journal_mode=WAL", [])
        _ = try? await opened.query("PRAGMA busy_timeout=5000", [])
        // WAL + NORMAL: a commit no longer waits for fsync (a power cut may lose the last
        // commits, never the file's consistency), which is what a per-request usage insert needs.
        _ = try? await opened.query("PRAGMA synchronous=NORMAL", [])
        // 512 KiB of page cache instead of SQLite's 2 MiB: the suite's databases are small logs and
        // registries, the kernel caches the file anyway, and a service's memory is part of its
        // budget (the router's grew by the full 2 MiB as its usage table grew).
        _ = try? await opened.query("PRAGMA cache_size=-512", [])
        // The actor may have been re-entered while opening: keep one connection, close the other
        // (sqlite-nio requires every connection to be closed before it is released).
        if let existing = connection {
            try? await opened.close()
            return existing
        }
        connection = opened
        return opened
    }

    static func data(_ value: SQLValue) -> SQLiteData {
        switch value {
        case .null: .null
        case .int(let value): .integer(Int(value))
        case .double(let value): .float(value)
        case .text(let value), .json(let value): .text(value)
        case .bool(let value): .integer(value ? 1 : 0)
        case .date(let value): .float(value.timeIntervalSince1970)
        }
    }

    static func value(_ data: SQLiteData) -> SQLValue {
        switch data {
        case .integer(let value): .int(Int64(value))
        case .float(let value): .double(value)
        case .text(let value): .text(value)
        case .blob(var buffer): .text(buffer.readString(length: buffer.readableBytes) ?? "")
        case .null: .null
        }
    }

    private func sqliteText(_ sql: String) -> String {
        if let known = rewritten[sql] { return known }
        if rewritten.count >= 256 { rewritten.removeAll() }
        let text = Self.rewritePlaceholders(sql)
        rewritten[sql] = text
        return text
    }

    /// `$1` → `?1` outside quoted strings, so one SQL text serves both engines.
    static func rewritePlaceholders(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.count)
        var quote: Character?
        var index = sql.startIndex
        while index < sql.endIndex {
            let character = sql[index]
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "$", let next = sql.index(index, offsetBy: 1, limitedBy: sql.endIndex), next < sql.endIndex, sql[next].isASCII, sql[next].isNumber {
                result.append("?")
                index = next
                continue
            }
            result.append(character)
            index = sql.index(after: index)
        }
        return result
    }
}
