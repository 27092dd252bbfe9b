import AsyncHTTPClient
import Foundation
import Logging
import MCP
import MCPShared
import ServiceKit

/// The gateway's MCP client session with one shard, and what the last probe learnt.
actor ShardConnection {
    nonisolated let endpoint: ShardEndpoint
    private let httpClient: HTTPClient
    private let logger: Logger
    private let requestTimeout: Duration
    private var client: Client?
    private var connecting: Task<Client, any Error>?

    private(set) var status: HealthStatus = .unknown
    private(set) var tools: [Tool] = []
    private(set) var lastProbe: Date?
    private(set) var latencyMs: Double?
    private(set) var lastError: String?

    init(endpoint: ShardEndpoint, httpClient: HTTPClient, requestTimeout: Duration, logger: Logger) {
        self.endpoint = endpoint
        self.httpClient = httpClient
        self.requestTimeout = requestTimeout
        self.logger = logger
    }

    var health: ComponentHealth {
        ComponentHealth(
            name: endpoint.name, status: status, endpoint: endpoint.url, toolCount: tools.count,
            lastProbe: lastProbe, latencyMs: latencyMs, lastError: lastError)
    }

    /// Initializes if needed and lists every tool (all pages). Returns true when the tool list
    /// or the status changed.
    func probe(timeout: Duration) async -> Bool {
        let started = ContinuousClock.now
        let before = (status, tools)
        do {
            let listed = try await withDeadline(timeout) {
                let client = try await self.connectedClient()
                var all: [Tool] = []
                var cursor: String?
                repeat {
                    let page = try await client.listTools(cursor: cursor)
                    all += page.tools
                    cursor = page.nextCursor
                } while cursor != nil && all.count < 10_000
                return all
            }
            tools = listed
            status = .healthy
            lastError = nil
        } catch {
            if status != .unhealthy {
                logger.warning("shard is down; hiding its tools", metadata: ["shard": "\(endpoint.name)", "error": "\(error)"])
            }
            status = .unhealthy
            tools = []
            lastError = "\(error)"
            await dropClient()
        }
        lastProbe = Date()
        latencyMs = Double((ContinuousClock.now - started) / .microseconds(1)) / 1000
        if before.0 != .healthy && status == .healthy {
            logger.info("shard is up", metadata: ["shard": "\(endpoint.name)", "tools": "\(tools.count)"])
        }
        return before.0 != status || before.1 != tools
    }

    /// Calls `tool` (the shard's own name) and waits at most `timeout`; on timeout or client
    /// cancellation the shard gets `notifications/cancelled`.
    func callTool(_ tool: String, arguments: [String: Value]?, meta: Metadata?, timeout: Duration) async throws -> CallTool.Result {
        do {
            return try await callOnce(tool, arguments: arguments, meta: meta, timeout: timeout)
        } catch MCPClientTransportError.sessionExpired {
            // The shard restarted and forgot the session: nothing ran, so one retry is safe.
            await dropClient()
            return try await callOnce(tool, arguments: arguments, meta: meta, timeout: timeout)
        }
    }

    private func callOnce(_ tool: String, arguments: [String: Value]?, meta: Metadata?, timeout: Duration) async throws -> CallTool.Result {
        let client = try await connectedClient()
        let request = try await client.send(CallTool.request(.init(name: tool, arguments: arguments, meta: meta)))
        let outcome = await withTaskGroup(of: CallOutcome.self) { group in
            group.addTask {
                do { return .finished(try await request.value) } catch { return .failed(error) }
            }
            group.addTask {
                do { try await Task.sleep(for: timeout) } catch { return .cancelled }
                return .timedOut
            }
            let first = await group.next() ?? .cancelled
            switch first {
            case .timedOut, .cancelled:
                // Ends the pending request so the first child returns, and tells the shard.
                try? await client.cancelRequest(request.requestID, reason: first == .timedOut ? "gateway timeout" : "client cancelled")
            default: break
            }
            group.cancelAll()
            return first
        }
        switch outcome {
        case .finished(let result): return result
        case .failed(let error): throw error
        case .timedOut: throw GatewayError.timedOut(tool, after: timeout)
        case .cancelled: throw CancellationError()
        }
    }

    private enum CallOutcome: Sendable, Equatable {
        case finished(CallTool.Result)
        case failed(any Error)
        case timedOut
        case cancelled

        static func == (lhs: CallOutcome, rhs: CallOutcome) -> Bool {
            switch (lhs, rhs) {
            case (.timedOut, .timedOut), (.cancelled, .cancelled): true
            default: false
            }
        }
    }

    private func connectedClient() async throws -> Client {
        if let client { return client }
        if let connecting { return try await connecting.value }
        let task = Task { [endpoint, httpClient, requestTimeout] in
            let transport = StreamableHTTPClientTransport(
                endpoint: endpoint.url, httpClient: httpClient, requestTimeout: requestTimeout + .seconds(5))
            let client = Client(name: "homelab-mcp-gateway", version: SuiteVersion.current)
            do {
                try await client.connect(transport: transport)
            } catch {
                await client.disconnect()
                throw error
            }
            return client
        }
        connecting = task
        defer { connecting = nil }
        let client = try await task.value
        self.client = client
        return client
    }

    func dropClient() async {
        guard let client else { return }
        self.client = nil
        await client.disconnect()
    }
}

/// Runs `body`, giving up with a timeout error after `limit`.
func withDeadline<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw DeadlineExceeded(limit: limit)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "no answer within \(limit)" }
}
