import CHiredis
import Foundation
import Logging

/// A message received on a subscribed channel.
public struct RedisMessage: Sendable, Equatable {
    public var channel: String
    public var payload: String

    public init(channel: String, payload: String) {
        self.channel = channel
        self.payload = payload
    }
}

/// A dedicated subscribed connection, read as an `AsyncSequence` of messages.
///
/// Iteration ends with an error when the connection breaks (Redis restarted or gone); messages
/// published meanwhile are lost, so callers re-read their state after re-subscribing.
/// ``follow(configuration:channels:logger:onSubscribed:onMessage:)`` does that loop with backoff.
public final class RedisSubscription: AsyncSequence, Sendable {
    public typealias Element = RedisMessage
    private let connection: RedisConnection

    private init(connection: RedisConnection) {
        self.connection = connection
    }

    /// Connects and subscribes to `channels`.
    public static func subscribe(configuration: RedisConfiguration, channels: [String]) async throws -> RedisSubscription {
        precondition(!channels.isEmpty, "subscribe to at least one channel")
        let connection = RedisConnection(configuration: configuration, label: "subscriber")
        let reply = try await connection.withContext { try RedisConnection.execute($0, ["SUBSCRIBE"] + channels) }
        if case .error(let message) = reply { throw RedisError.server(message) }
        return RedisSubscription(connection: connection)
    }

    public func close() async {
        await connection.close()
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let connection: RedisConnection

        public mutating func next() async throws -> RedisMessage? {
            while true {
                // Wait in short slices so cancelling the reading task ends iteration promptly.
                if Task.isCancelled { return nil }
                let reply = try await connection.withExistingContext { try Self.waitForReply($0, milliseconds: 250) }
                guard let reply, let items = reply.array, items.count >= 3 else { continue }
                switch items[0].string {
                case "message":
                    return RedisMessage(channel: items[1].string ?? "", payload: items[2].string ?? "")
                case "pmessage" where items.count >= 4:
                    return RedisMessage(channel: items[2].string ?? "", payload: items[3].string ?? "")
                default:
                    continue  // subscribe confirmations
                }
            }
        }

        /// One buffered reply, or waits up to `milliseconds` for the socket to become readable.
        static func waitForReply(_ context: UnsafeMutablePointer<redisContext>, milliseconds: Int32) throws -> RedisReply? {
            if let reply = try takeBufferedReply(context) { return reply }
            var descriptor = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, milliseconds) > 0 else { return nil }
            guard redisBufferRead(context) == REDIS_OK else {
                throw RedisError.connection(RedisConnection.errorString(context))
            }
            return try takeBufferedReply(context)
        }

        static func takeBufferedReply(_ context: UnsafeMutablePointer<redisContext>) throws -> RedisReply? {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReplyFromReader(context, &raw) == REDIS_OK else {
                throw RedisError.connection(RedisConnection.errorString(context))
            }
            guard let raw else { return nil }
            defer { freeReplyObject(raw) }
            return RedisReply(raw.assumingMemoryBound(to: redisReply.self))
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(connection: connection)
    }

    /// Subscribes and delivers messages until the task is cancelled, re-subscribing with backoff
    /// (0.25 s doubling to 15 s) whenever Redis goes away. `onSubscribed` runs after every
    /// (re)subscription so the caller can re-read what it may have missed.
    public static func follow(
        configuration: RedisConfiguration, channels: [String], logger: Logger,
        onSubscribed: @Sendable () async -> Void = {},
        onMessage: @Sendable (RedisMessage) async -> Void
    ) async {
        var backoff = Duration.milliseconds(250)
        var failing = false
        while !Task.isCancelled {
            var current: RedisSubscription?
            do {
                let subscription = try await subscribe(configuration: configuration, channels: channels)
                current = subscription
                if failing { logger.info("Redis subscription restored", metadata: ["redis": "\(configuration)"]) }
                failing = false
                backoff = .milliseconds(250)
                await onSubscribed()
                for try await message in subscription { await onMessage(message) }
            } catch {
                if !failing {
                    logger.warning("Redis subscription lost, retrying with backoff", metadata: ["redis": "\(configuration)", "error": "\(error)"])
                }
                failing = true
            }
            await current?.close()
            if Task.isCancelled { return }
            try? await Task.sleep(for: backoff)
            backoff = Swift.min(backoff * 2, .seconds(15))
        }
    }
}
