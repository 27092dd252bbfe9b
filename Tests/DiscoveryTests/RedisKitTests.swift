import Foundation
import RedisKit
import Testing
import TestSupport

@Suite("RedisKit against a real redis-server")
struct RedisKitTests {
    @Test func parsesURLsAndNeverShowsThePassword() throws {
        let configuration = try RedisConfiguration(url: "redis://:s3cret@cache.local:6380/2")
        #expect(configuration.host == "cache.local")
        #expect(configuration.port == 6380)
        #expect(configuration.database == 2)
        #expect(configuration.password == "s3cret")
        #expect(!configuration.description.contains("s3cret"))
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "http://x") }
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis://:pw@host/notanumber") }
    }

    @Test func commandsPubSubAndRestart() async throws {
        let server = try await LocalRedis.start()
        defer { server.stop() }
        let client = try RedisClient(url: server.url)

        try await client.set("greeting", to: "hello", expiresIn: .seconds(60))
        #expect(try await client.get("greeting") == "hello")
        let ttl = try await client.command(["TTL", "greeting"]).integer ?? 0
        #expect(ttl > 0 && ttl <= 60)
        #expect(try await client.get("missing") == nil)
        let id = try await client.xadd(stream: "events", fields: [("server", "a"), ("kind", "added")])
        #expect(id.contains("-"))
        #expect(try await client.delete(["greeting"]) == 1)
        await #expect(throws: RedisError.self) { try await client.command(["NOSUCHCOMMAND"]) }

        // Pub/sub: the subscriber sees a message published after it subscribed.
        let subscription = try await RedisSubscription.subscribe(configuration: client.configuration, channels: ["news"])
        var iterator = subscription.makeAsyncIterator()
        #expect(try await client.publish(channel: "news", message: "first") == 1)
        let message = try await iterator.next()
        #expect(message == RedisMessage(channel: "news", payload: "first"))

        // A Redis restart breaks the subscription with an error, and the client reconnects by itself.
        try await client.set("kept", to: "yes")
        server.stop()
        await #expect(throws: RedisError.self) { _ = try await iterator.next() }
        #expect(await client.ping() == false)
        try await server.start()
        #expect(try await client.get("kept") == "yes")
        await subscription.close()
        await client.close()
    }

    @Test func wrongPasswordIsAClearErrorWithoutThePassword() async throws {
        let server = try await LocalRedis.start()
        defer { server.stop() }
        let client = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: server.port, password: "wrong-pass"))
        do {
            _ = try await client.get("x")
            Issue.record("expected an error")
        } catch {
            #expect(!"\(error)".contains("wrong-pass"))
        }
    }
}
