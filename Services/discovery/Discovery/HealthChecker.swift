import AsyncHTTPClient
import Foundation
import Logging
import MCP
import ServiceKit
import ServiceLifecycle

struct HealthCheckResult: Sendable {
    enum Outcome: Sendable {
        case healthy(toolCount: Int, capabilities: [String])
        case unhealthy(String)
    }

    var outcome: Outcome
    var latencyMs: Double
}

/// Checks each server at the MCP level (initialize + tools/list) with a bounded timeout: a new
/// server at once and then quickly until it answers, a healthy one every `interval`.
struct HealthChecker: Service {
    let registry: Registry
    let httpClient: HTTPClient
    let interval: Duration
    let timeout: Duration
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let due = await registry.dueForCheck(interval: interval)
                if !due.isEmpty {
                    await withTaskGroup(of: Void.self) { group in
                        for candidate in due {
                            group.addTask {
                                let result = await check(candidate.endpoint)
                                await registry.recordCheck(candidate, result: result)
                            }
                        }
                    }
                }
                await registry.pruneGone()
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// One MCP-level check: a fresh client, initialize, every tools/list page, disconnect.
    func check(_ endpoint: String) async -> HealthCheckResult {
        let started = ContinuousClock.now
        // The check's own deadline below is the one that fires (with its readable reason); the
        // transport's is a later backstop. Equal deadlines raced, and the report then said
        // "HTTPClientError.deadlineExceeded" instead.
        let transport = StreamableHTTPClientTransport(endpoint: endpoint, httpClient: httpClient, requestTimeout: timeout + .seconds(2), logger: logger)
        let client = Client(name: "homelab-mcp-discovery", version: SuiteVersion.current)
        let outcome: HealthCheckResult.Outcome
        do {
            outcome = try await withDeadline(timeout, "no MCP answer", onTimeout: { await client.disconnect() }) {
                let initialized = try await client.connect(transport: transport)
                var capabilities: [String] = []
                if initialized.capabilities.tools != nil { capabilities.append("tools") }
                if initialized.capabilities.prompts != nil { capabilities.append("prompts") }
                if initialized.capabilities.resources != nil { capabilities.append("resources") }
                var count = 0
                var cursor: String?
                repeat {
                    let page = try await client.listTools(cursor: cursor)
                    count += page.tools.count
                    cursor = page.nextCursor
                } while cursor != nil && count < 10_000
                return .healthy(toolCount: count, capabilities: capabilities)
            }
        } catch {
            outcome = .unhealthy(Self.describe(error))
        }
        await client.disconnect()
        let elapsed = ContinuousClock.now - started
        return HealthCheckResult(outcome: outcome, latencyMs: Double(elapsed / .microseconds(1)) / 1000)
    }

    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}
