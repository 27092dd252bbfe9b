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
    private var connecting: Task<(Client, Server.Capabilities), any Error>?

    private(set) var status: HealthStatus = .unknown
    private(set) var tools: [Tool] = []
    private(set) var prompts: [Prompt] = []
    private(set) var resources: [Resource] = []
    private var capabilities: Server.Capabilities?
    private let progressRelay: ProgressRelay
    private(set) var lastProbe: Date?
    private(set) var latencyMs: Double?
    private(set) var lastError: String?

    init(endpoint: ShardEndpoint, httpClient: HTTPClient, requestTimeout: Duration, progressRelay: ProgressRelay, logger: Logger) {
        self.endpoint = endpoint
        self.progressRelay = progressRelay
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
        let before = (status, tools, prompts, resources)
        do {
            // On timeout the client is dropped, which fails its pending requests, so a shard that
            // accepts a connection but never answers cannot hold the probe loop.
            let listed = try await withDeadline(timeout, onTimeout: { await self.dropClient() }) {
                try await self.listEverything()
            }
            (tools, prompts, resources) = listed
            status = .healthy
            lastError = nil
        } catch {
            if status != .unhealthy {
                logger.warning("shard is down; hiding its tools", metadata: ["shard": "\(endpoint.name)", "error": "\(error)"])
            }
            status = .unhealthy
            tools = []
            prompts = []
            resources = []
            lastError = "\(error)"
            await dropClient()
        }
        lastProbe = Date()
        latencyMs = Double((ContinuousClock.now - started) / .microseconds(1)) / 1000
        if before.0 != .healthy && status == .healthy {
            logger.info("shard is up", metadata: ["shard": "\(endpoint.name)", "tools": "\(tools.count)"])
        }
        return before.0 != status || before.1 != tools || before.2 != prompts || before.3 != resources
    }

    /// Tools always; prompts and resources when the shard declares them. Every page is read.
    private func listEverything() async throws -> ([Tool], [Prompt], [Resource]) {
        let client = try await connectedClient()
        var tools: [Tool] = []
        var cursor: String?
        repeat {
            let page = try await client.listTools(cursor: cursor)
            tools += page.tools
            cursor = page.nextCursor
        } while cursor != nil && tools.count < 10_000
        var prompts: [Prompt] = []
        if capabilities?.prompts != nil {
            cursor = nil
            repeat {
                let page = try await client.listPrompts(cursor: cursor)
                prompts += page.prompts
                cursor = page.nextCursor
            } while cursor != nil && prompts.count < 10_000
        }
        var resources: [Resource] = []
        if capabilities?.resources != nil {
            cursor = nil
            repeat {
                let page = try await client.listResources(cursor: cursor)
                resources += page.resources
                cursor = page.nextCursor
            } while cursor != nil && resources.count < 10_000
        }
        return (tools, prompts, resources)
    }

    func getPrompt(_ name: String, arguments: [String: String]?) async throws -> GetPrompt.Result {
        let client = try await connectedClient()
        return try await client.send(GetPrompt.request(.init(name: name, arguments: arguments))).value
    }

    func readResource(_ uri: String) async throws -> ReadResource.Result {
        let client = try await connectedClient()
        return try await client.send(ReadResource.request(.init(uri: uri))).value
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
                // Ends the pending request so the first child returns, and tells the shard. The
                // notification goes out from its own task: this one may be cancelled, and a
                // cancelled task's HTTP request is refused before it is sent.
                let reason = first == .timedOut ? "gateway timeout" : "client cancelled"
                await Task { try? await client.cancelRequest(request.requestID, reason: reason) }.value
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
        if let connecting { return try await connecting.value.0 }
        let task = Task { [endpoint, httpClient, requestTimeout, progressRelay, logger] in
            let transport = StreamableHTTPClientTransport(
                endpoint: endpoint.url, httpClient: httpClient, requestTimeout: requestTimeout + .seconds(5), logger: logger)
            let client = Client(name: "homelab-mcp-gateway", version: SuiteVersion.current)
            await client.onNotification(ProgressNotification.self) { message in
                await progressRelay.deliver(message.params)
            }
            do {
                let initialized = try await client.connect(transport: transport)
                return (client, initialized.capabilities)
            } catch {
                await client.disconnect()
                throw error
            }
        }
        connecting = task
        defer { connecting = nil }
        let (client, capabilities) = try await task.value
        self.client = client
        self.capabilities = capabilities
        return client
    }

    func dropClient() async {
        guard let client else { return }
        self.client = nil
        await client.disconnect()
    }
}
