import Foundation

/// Where a Redis server is and how to log in, parsed from `redis://[[user]:password@]host[:port][/db]`.
///
/// The password never appears in `description`, so the configuration can be logged as is.
public struct RedisConfiguration: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int
    /// How long connecting may take, and how long one command may wait for its reply.
    public var timeout: Duration

    public init(host: String, port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0, timeout: Duration = .seconds(3)) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.timeout = timeout
    }

    /// Parses a `redis://` URL; the error message never repeats the password.
    public init(url text: String, timeout: Duration = .seconds(3)) throws {
        guard let components = URLComponents(string: text), components.scheme?.lowercased() == "redis" else {
            throw RedisError.invalidURL("expected redis://[:password@]host:port[/db]")
        }
        guard let host = components.host, !host.isEmpty else {
            throw RedisError.invalidURL("has no host (expected redis://[:password@]host:port[/db])")
        }
        let port = components.port ?? 6379
        guard (1...65535).contains(port) else { throw RedisError.invalidURL("has an invalid port \(port)") }
        var database = 0
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let number = Int(path), number >= 0 else {
                throw RedisError.invalidURL("has an invalid database number '\(path)' (expected /0 ... /15)")
            }
            database = number
        }
        let user = components.user.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding ?? $0 }
        let password = components.password.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding ?? $0 }
        self.init(host: host, port: port, username: user, password: password, database: database, timeout: timeout)
    }

    public var description: String {
        "redis://\(password == nil ? "" : "***@")\(host):\(port)/\(database)"
    }
}

/// What can go wrong talking to Redis. Messages never contain credentials.
public enum RedisError: Error, CustomStringConvertible, Sendable, Equatable {
    case invalidURL(String)
    /// Could not connect or the connection broke (Redis down, restarted, unreachable).
    case connection(String)
    /// Redis answered with an error reply (`-ERR ...`, `-WRONGTYPE ...`).
    case server(String)
    /// The reply was not what the command promises.
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .invalidURL(let reason): "REDIS_URL \(reason)"
        case .connection(let reason): "Redis connection failed: \(reason)"
        case .server(let message): "Redis error: \(message)"
        case .unexpectedReply(let what): "unexpected Redis reply: \(what)"
        }
    }
}
