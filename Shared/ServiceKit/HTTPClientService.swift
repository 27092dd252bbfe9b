import AsyncHTTPClient
import ServiceLifecycle

/// Keeps an injected `HTTPClient` alive for the life of the service group and shuts it down
/// after every service that uses it (place it first in the group: groups stop in reverse order).
public struct HTTPClientService: Service {
    public let client: HTTPClient

    public init(client: HTTPClient) {
        self.client = client
    }

    public func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
