import Foundation
import Logging
import NIOCore
import PostgresNIO
import ServiceKit
import ServiceLifecycle

/// PostgreSQL through postgres-nio's `PostgresClient` (a connection pool that reconnects by itself).
/// `run()` runs the pool: queries wait until it runs, so migrate after the services start
/// (Hummingbird's `beforeServerStarts`).
public final class PostgresDatabase: Database {
    public let engine = DatabaseEngine.postgres
    public let client: PostgresClient
    /// host:port/database, for logs (no credentials).
    public let location: String
    private let logger: Logger

    /// How long a query may wait (for a pooled connection and the answer) before it fails:
    /// while PostgreSQL is down the pool keeps retrying, and callers should hear about it.
    public let queryTimeout: Duration

    public init(url: String, logger: Logger, queryTimeout: Duration = .seconds(5)) throws {
        self.queryTimeout = queryTimeout
        var configuration = try Self.configuration(url: url)
        // PostgreSQL ends a statement that outlives the query timeout itself: postgres-nio cannot
        // abandon a running query, so without this a query stuck on a lock would hold its caller
        // (and the deadline's error) until the server answered. A little later than the client's
        // deadline, so the error callers see is the deadline's.
        let statementTimeout = queryTimeout + .milliseconds(250)
        configuration.options.additionalStartupParameters.append(("statement_timeout", String(Int(statementTimeout.milliseconds.rounded(.up)))))
        self.location = "\(configuration.host ?? "?"):\(configuration.port ?? 5432)/\(configuration.database ?? configuration.username)"
        // The pool logs every failed reconnect at info; callers already hear about failures from
        // their queries, so only its warnings and errors are kept.
        var background = logger
        background.logLevel = Swift.max(logger.logLevel, .warning)
        self.client = PostgresClient(configuration: configuration, backgroundLogger: background)
        self.logger = logger
    }

    public func run() async {
        await client.run()
    }

    public func execute(_ sql: String, _ parameters: [SQLValue]) async throws {
        try await query(sql, parameters)
    }

    @discardableResult
    public func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [SQLRow] {
        var bindings = PostgresBindings(capacity: parameters.count)
        for parameter in parameters {
            switch parameter {
            case .null: bindings.appendNull()
            case .int(let value): bindings.append(value)
            case .double(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            case .bool(let value): bindings.append(value)
            case .date(let value): bindings.append(value)
            case .json(let value): try bindings.append(JSONBText(text: value))
            }
        }
        let query = PostgresQuery(unsafeSQL: sql, binds: bindings)
        do {
            return try await withDeadline(queryTimeout, "PostgreSQL (\(location)) did not answer") { [client, logger] in
                var result: [SQLRow] = []
                for try await row in try await client.query(query, logger: logger) {
                    var values: [String: SQLValue] = [:]
                    for cell in row { values[cell.columnName] = Self.value(of: cell) }
                    result.append(SQLRow(values: values))
                }
                return result
            }
        } catch let error as DeadlineExceeded {
            throw DatabaseError(error.description)
        } catch let error as PSQLError {
            // PSQLError's description hides details on purpose; the server message is what helps.
            let detail = error.serverInfo?[.message] ?? "\(error.code)"
            throw DatabaseError("PostgreSQL (\(location)): \(detail)")
        }
    }

    static func value(of cell: PostgresCell) -> SQLValue {
        guard var bytes = cell.bytes else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8:
            return (try? cell.decode(Int64.self)).map(SQLValue.int) ?? .null
        case .float4, .float8:
            return (try? cell.decode(Double.self)).map(SQLValue.double) ?? .null
        case .bool:
            return (try? cell.decode(Bool.self)).map(SQLValue.bool) ?? .null
        case .timestamptz, .timestamp, .date:
            return (try? cell.decode(Date.self)).map(SQLValue.date) ?? .null
        case .jsonb:
            // Binary jsonb is a version byte (1) followed by the JSON text.
            _ = bytes.readInteger(as: UInt8.self)
            return .json(bytes.readString(length: bytes.readableBytes) ?? "")
        case .json:
            return .json(bytes.readString(length: bytes.readableBytes) ?? "")
        default:
            return (try? cell.decode(String.self)).map(SQLValue.text) ?? .text(bytes.readString(length: bytes.readableBytes) ?? "")
        }
    }

    /// Parses `postgres://user:password@host:port/database`. TLS is not negotiated (`sslmode`
    /// other than `disable` is refused rather than silently ignored).
    static func configuration(url text: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            ["postgres", "postgresql"].contains(scheme)
        else { throw DatabaseError("DATABASE_URL must look like postgres://user:password@host:5432/database") }
        guard let host = components.host, !host.isEmpty else { throw DatabaseError("DATABASE_URL has no host") }
        guard let user = components.user, !user.isEmpty else { throw DatabaseError("DATABASE_URL has no user name") }
        let sslmode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "disable"
        guard ["disable", "allow", "prefer"].contains(sslmode) else {
            throw DatabaseError("DATABASE_URL asks for sslmode=\(sslmode); only unencrypted connections (sslmode=disable) are supported")
        }
        let database = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user.removingPercentEncoding ?? user,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: database.isEmpty ? nil : database, tls: .disable)
        configuration.options.minimumConnections = 0
        configuration.options.maximumConnections = 8
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }
}

/// JSON text bound as `jsonb` (binary format: version byte 1, then the text).
struct JSONBText: PostgresEncodable {
    var text: String
    static var psqlType: PostgresDataType { .jsonb }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeInteger(UInt8(1))
        byteBuffer.writeString(text)
    }
}
