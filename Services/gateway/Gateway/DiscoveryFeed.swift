import AsyncHTTPClient
import Foundation
import Logging
import MCPShared
import NIOCore
import NIOHTTP1
import RedisKit
import ServiceKit
import ServiceLifecycle

/// Follows the discovery service and feeds its servers into the ``ShardDirectory`` (source
/// `discovery`): over Redis (`REDIS_URL`: read `mcp:servers:list`, then follow
/// `mcp:servers:events`) and/or over discovery's HTTP feed (`GATEWAY_DISCOVERY_URL`: the SSE
/// stream at `/api/v1/servers/feed`). Both carry the same full list, so either may win. When
/// both are lost the last list is kept; each reconnects with backoff.
struct DiscoveryFeed: Service {
    /// discovery's `{"servers": [RegistryRecord]}`.
    struct ServerList: Decodable {
        var servers: [RegistryRecord]
    }

    static let redisKey = "mcp:servers:list"
    static let redisChannel = "mcp:servers:events"

    let directory: ShardDirectory
    let discoveryURL: String?
    let redis: RedisConfiguration?
    let httpClient: HTTPClient
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                if let discoveryURL {
                    group.addTask { await followHTTP(discoveryURL) }
                }
                if let redis {
                    group.addTask { await followRedis(redis) }
                }
                await group.waitForAll()
            }
        }
    }

    /// Applies one list: healthy servers with valid names become shards.
    func apply(_ json: String, from source: String) async {
        do {
            let list = try JSONResponse.decoder.decode(ServerList.self, from: Data(json.utf8))
            let shards = list.servers.filter { $0.healthStatus == .healthy }.compactMap { record in
                try? ShardEndpoint.validated(name: record.name, url: record.endpoint, variable: "discovery")
            }
            await directory.update(source: ShardDirectory.discoverySource, shards: shards)
        } catch {
            logger.warning("ignoring a discovery list the gateway cannot read", metadata: ["from": "\(source)", "error": "\(error)"])
        }
    }

    // MARK: - Redis

    private func followRedis(_ configuration: RedisConfiguration) async {
        let client = RedisClient(configuration: configuration, logger: logger)
        await RedisSubscription.follow(
            configuration: configuration, channels: [Self.redisChannel], logger: logger,
            onSubscribed: {
                // Whatever changed while not subscribed is in the list key.
                if let json = try? await client.get(Self.redisKey) { await apply(json, from: "redis") }
            },
            onMessage: { message in await apply(message.payload, from: "redis") })
        await client.close()
    }

    // MARK: - HTTP feed

    private func followHTTP(_ baseURL: String) async {
        let url = (baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL) + "/api/v1/servers/feed"
        var backoff = Duration.milliseconds(250)
        var failing = false
        while !Task.isCancelled {
            let connectedAt = ContinuousClock.now
            do {
                var request = HTTPClientRequest(url: url)
                request.headers.add(name: "Accept", value: "text/event-stream")
                let response = try await httpClient.execute(request, timeout: .hours(24 * 365), logger: logger)
                guard response.status == .ok else { throw FeedError(description: "\(url) answered \(response.status.code)") }
                if failing { logger.info("discovery feed connected again", metadata: ["url": "\(url)"]) }
                failing = false
                var parser = SSEParser()
                for try await chunk in response.body {
                    for event in parser.feed(chunk.readableBytesView) where event.event == "servers" {
                        await apply(event.data, from: "http")
                    }
                }
                throw FeedError(description: "discovery closed the feed")
            } catch {
                if Task.isCancelled { return }
                if !failing { logger.warning("discovery feed lost; keeping the last list and retrying", metadata: ["url": "\(url)", "error": "\(error)"]) }
                failing = true
            }
            if ContinuousClock.now - connectedAt > .seconds(10) { backoff = .milliseconds(250) }
            try? await Task.sleep(for: backoff)
            backoff = Swift.min(backoff * 2, .seconds(15))
        }
    }

    struct FeedError: Error, CustomStringConvertible {
        let description: String
    }
}
