import Logging
import ServiceLifecycle

/// A small Redis client on hiredis: one connection, commands run one at a time off the
/// cooperative thread pool (see ``RedisConnection`` for why).
///
/// It connects lazily and reconnects on the next command after Redis restarts; a command that hits
/// a broken socket is retried once on a fresh connection. Add it to the service group so the socket
/// is closed on shutdown.
///
/// ```swift
/// let redis = try RedisClient(url: "redis://:secret@redis:6379/0", logger: logger)
/// try await redis.set("mcp:servers:list", to: json, expiresIn: .seconds(60))
/// _ = try await redis.publish(channel: "mcp:servers:events", message: "changed")
/// let subscription = try await RedisSubscription.subscribe(configuration: redis.configuration, channels: ["mcp:servers:events"])
/// for try await message in subscription { print(message.channel, message.payload) }
/// ```
public final class RedisClient: Service, Sendable {
    public let configuration: RedisConfiguration
    private let connection: RedisConnection
    private let logger: Logger

    public init(configuration: RedisConfiguration, logger: Logger = Logger(label: "RedisKit")) {
        self.configuration = configuration
        self.connection = RedisConnection(configuration: configuration, label: "client")
        self.logger = logger
    }

    public convenience init(url: String, logger: Logger = Logger(label: "RedisKit")) throws {
        self.init(configuration: try RedisConfiguration(url: url), logger: logger)
    }

    /// Runs any command; an error reply throws ``RedisError/server(_:)``.
    @discardableResult
    public func command(_ arguments: [String]) async throws -> RedisReply {
        precondition(!arguments.isEmpty, "a Redis command needs a name")
        let reply: RedisReply
        do {
            reply = try await connection.withContext { try RedisConnection.execute($0, arguments) }
        } catch RedisError.connection {
            // Most often a socket left over from before a Redis restart: one fresh attempt.
            reply = try await connection.withContext { try RedisConnection.execute($0, arguments) }
        }
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    public func get(_ key: String) async throws -> String? {
        try await command(["GET", key]).string
    }

    /// `SET key value [EX seconds]`.
    public func set(_ key: String, to value: String, expiresIn: Duration? = nil) async throws {
        var arguments = ["SET", key, value]
        if let expiresIn { arguments += ["EX", String(max(1, expiresIn.components.seconds))] }
        try await command(arguments)
    }

    /// Returns how many keys existed.
    @discardableResult
    public func delete(_ keys: [String]) async throws -> Int {
        Int(try await command(["DEL"] + keys).integer ?? 0)
    }

    @discardableResult
    public func expire(_ key: String, after: Duration) async throws -> Bool {
        try await command(["EXPIRE", key, String(max(1, after.components.seconds))]).integer == 1
    }

    /// Returns how many subscribers received the message.
    @discardableResult
    public func publish(channel: String, message: String) async throws -> Int {
        Int(try await command(["PUBLISH", channel, message]).integer ?? 0)
    }

    /// `XADD stream [MAXLEN ~ n] * field value ...`; returns the entry id.
    @discardableResult
    public func xadd(stream: String, fields: [(String, String)], maxLength: Int? = nil) async throws -> String {
        var arguments = ["XADD", stream]
        if let maxLength { arguments += ["MAXLEN", "~", String(maxLength)] }
        arguments.append("*")
        for (field, value) in fields { arguments += [field, value] }
        guard let id = try await command(arguments).string else { throw RedisError.unexpectedReply("XADD returned no id") }
        return id
    }

    /// Whether Redis answers `PING` right now.
    public func ping() async -> Bool {
        (try? await command(["PING"]).string) == "PONG"
    }

    public func close() async {
        await connection.close()
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }
}
