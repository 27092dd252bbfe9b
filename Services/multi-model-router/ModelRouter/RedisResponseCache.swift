import Foundation
import Logging
import RedisKit

/// The response cache in Redis (`REDIS_URL`), shared by every router instance. Redis trouble
/// means a cache miss, never a failed chat.
public struct RedisResponseCache: ResponseCache {
    let client: RedisClient
    let logger: Logger

    public init(client: RedisClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func get(_ key: String) async -> String? {
        do { return try await client.get(key) } catch {
            logger.warning("redis cache read failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    public func set(_ key: String, _ value: String, ttl: Double) async {
        do { try await client.set(key, to: value, expiresIn: .seconds(max(1, ttl))) } catch {
            logger.warning("redis cache write failed", metadata: ["error": "\(error)"])
        }
    }
}
