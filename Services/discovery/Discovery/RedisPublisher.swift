import Foundation
import Logging
import MCPShared
import RedisKit
import ServiceKit
import ServiceLifecycle

/// What discovery publishes (Redis list key, pub/sub message, HTTP feed): the servers the gateway
/// should use right now, with their health.
public struct ServerList: Codable, Sendable, Equatable {
    public var servers: [RegistryRecord]

    public init(servers: [RegistryRecord]) {
        self.servers = servers
    }

    /// What a consumer acts on (not last_seen or latency, which change on every check).
    var fingerprint: [String] {
        servers.map { "\($0.name) \($0.endpoint) \($0.type) \($0.healthStatus.rawValue) \($0.capabilities.joined(separator: ","))" }
    }

    public static let redisKey = "mcp:servers:list"
    public static let redisChannel = "mcp:servers:events"
    public static let redisTTL = Duration.seconds(60)
}

/// Writes the servable list to `mcp:servers:list` (60 s TTL, refreshed every 20 s) and publishes
/// it on `mcp:servers:events` after every change. Redis down: logged once, retried every second,
/// and the list is rewritten and re-published as soon as it is back.
actor RedisPublisher: Service {
    let redis: RedisClient
    let registry: Registry
    let logger: Logger
    private(set) var health = ComponentHealth(name: "redis", status: .unknown)

    init(redis: RedisClient, registry: Registry, logger: Logger) {
        self.redis = redis
        self.registry = registry
        self.logger = logger
        self.health.endpoint = redis.configuration.description
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var published: [String]?
            while !Task.isCancelled {
                let seen = self.registry.signal.version
                let list = ServerList(servers: await self.registry.servable)
                let ok = await self.publish(list, announce: list.fingerprint != published)
                if ok { published = list.fingerprint }
                await self.registry.signal.wait(after: seen, timeout: ok ? .seconds(20) : .seconds(1))
            }
        }
    }

    private func publish(_ list: ServerList, announce: Bool) async -> Bool {
        do {
            let json = String(decoding: try JSONResponse.encoder.encode(list), as: UTF8.self)
            try await redis.set(ServerList.redisKey, to: json, expiresIn: ServerList.redisTTL)
            if announce || health.status != .healthy {
                try await redis.publish(channel: ServerList.redisChannel, message: json)
            }
            if health.status == .unhealthy { logger.info("Redis reachable again; server list republished", metadata: ["redis": "\(redis.configuration)"]) }
            health.status = .healthy
            health.lastError = nil
            health.lastProbe = Date()
            return true
        } catch {
            if health.lastError != "\(error)" {
                logger.error("Redis write failed; retrying", metadata: ["redis": "\(redis.configuration)", "error": "\(error)"])
            }
            health.status = .unhealthy
            health.lastError = "\(error)"
            health.lastProbe = Date()
            return false
        }
    }
}
