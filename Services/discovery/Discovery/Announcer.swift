import AsyncHTTPClient
import Foundation
import Logging
import MCPShared
import NIOCore
import NIOHTTP1
import ServiceKit
import ServiceLifecycle

/// Announces each new server to the PR bot (`POST {PR_AUTOMATION_URL}/api/v1/create-pr`) once it
/// has answered a health check: retried with backoff until a 2xx acknowledges it, at most once per
/// server name (remembered in `mcp_announcements`, so a restart does not announce again). A 4xx is
/// a refusal that retrying cannot fix: logged and remembered as such.
actor Announcer: Service {
    struct Body: Encodable {
        var server_name: String
        var type: String
        var endpoint: String
        var capabilities: [String]
        var description: String?
    }

    let baseURL: String
    let registry: Registry
    let store: RegistryStore
    let httpClient: HTTPClient
    let logger: Logger
    private var done: Set<String>?
    /// Acknowledged but not yet written to the database (it was down).
    private var unrecorded: [String: String] = [:]
    private var retryAt: [String: (ContinuousClock.Instant, Duration)] = [:]

    init(baseURL: String, registry: Registry, store: RegistryStore, httpClient: HTTPClient, logger: Logger) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.registry = registry
        self.store = store
        self.httpClient = httpClient
        self.logger = logger
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let seen = self.registry.signal.version
                await self.announcePending()
                await self.registry.signal.wait(after: seen, timeout: .seconds(1))
            }
        }
    }

    func announcePending() async {
        // Without the record of past announcements, "at most once" cannot be kept: wait for the database.
        if done == nil { done = try? await store.announcedNames() }
        guard var done else { return }
        for (name, outcome) in unrecorded where (try? await store.recordAnnouncement(name, outcome: outcome)) != nil {
            unrecorded[name] = nil
        }
        for record in await registry.servable where !done.contains(record.name) {
            if let (at, _) = retryAt[record.name], at > .now { continue }
            guard let outcome = await post(record) else { continue }
            done.insert(record.name)
            retryAt[record.name] = nil
            if (try? await store.recordAnnouncement(record.name, outcome: outcome)) == nil { unrecorded[record.name] = outcome }
        }
        self.done = done
    }

    /// The outcome to remember, or nil to retry later.
    private func post(_ record: RegistryRecord) async -> String? {
        let body = Body(
            server_name: record.name, type: record.type, endpoint: record.endpoint,
            capabilities: record.capabilities, description: record.metadata["description"])
        var request = HTTPClientRequest(url: baseURL + "/api/v1/create-pr")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        do {
            request.body = .bytes(ByteBuffer(bytes: try JSONResponse.encoder.encode(body)))
            let response = try await httpClient.execute(request, timeout: .seconds(30), logger: logger)
            let text = String(buffer: try await response.body.collect(upTo: 64 << 10))
            switch response.status.code {
            case 200..<300:
                logger.info("new server announced to the PR bot", metadata: ["name": "\(record.name)", "status": "\(response.status.code)"])
                return "acknowledged"
            case 400..<500 where response.status.code != 408 && response.status.code != 429:
                logger.error("PR bot refused the announcement; not retrying", metadata: ["name": "\(record.name)", "status": "\(response.status.code)", "body": "\(text.prefix(300))"])
                return "refused \(response.status.code)"
            default:
                scheduleRetry(record.name, reason: "HTTP \(response.status.code): \(text.prefix(200))")
                return nil
            }
        } catch {
            scheduleRetry(record.name, reason: "\(error)")
            return nil
        }
    }

    private func scheduleRetry(_ name: String, reason: String) {
        let previous = retryAt[name]?.1
        let delay = previous.map { Swift.min($0 * 2, .seconds(300)) } ?? .seconds(1)
        if previous == nil { logger.warning("announcing to the PR bot failed; retrying with backoff", metadata: ["name": "\(name)", "error": "\(reason)"]) }
        retryAt[name] = (.now + delay, delay)
    }
}
