import AsyncHTTPClient
import Foundation
import Logging
import ShardKit

/// What every tool of the shard uses: Traefik's API, the managed files, and one queue so that
/// changes run one at a time.
struct TraefikContext: Sendable {
    let settings: TraefikSettings
    let api: TraefikAPI
    let files: ManagedFiles
    let http: HTTPClient
    let changes: ChangeQueue
    let docs: DocsFetcher
    let logger: Logger

    init(settings: TraefikSettings, http: HTTPClient, logger: Logger) {
        self.settings = settings
        self.api = TraefikAPI(baseURL: settings.apiURL, client: http, timeout: settings.requestTimeout)
        self.files = ManagedFiles(dynamicDirectory: settings.dynamicDirectory)
        self.http = http
        self.changes = ChangeQueue()
        self.docs = DocsFetcher(baseURL: settings.docsURL, client: http, timeToLive: settings.docsCacheTTL)
        self.logger = logger
    }

    /// Short names of managed files that carry the ownership marker.
    func ownedNames() -> Set<String> {
        Set(files.managedNames().filter { files.read($0).map(ManagedRouteFile.isOwned) ?? false })
    }

    /// Polls `check` until it returns a value or the apply timeout passes. API errors while
    /// polling count as "not yet" (Traefik may be busy reloading); the last one is returned.
    func poll<T: Sendable>(_ check: @Sendable () async throws -> T?) async -> (value: T?, lastError: String?) {
        let deadline = ContinuousClock.now + settings.applyTimeout
        var lastError: String?
        while true {
            do {
                if let value = try await check() { return (value, nil) }
                lastError = nil
            } catch is CancellationError {
                return (nil, "cancelled")
            } catch {
                lastError = String(describing: error)
            }
            if ContinuousClock.now >= deadline { return (nil, lastError) }
            do { try await Task.sleep(for: .milliseconds(250)) } catch { return (nil, "cancelled") }
        }
    }
}
