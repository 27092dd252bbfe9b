import AsyncHTTPClient
import Foundation
import Logging
import MCP
import MCPShared
import ServiceKit
import Synchronization

/// The gateway's MCP client session with one shard, and what the last probe learnt.
actor ShardConnection {
    nonisolated let endpoint: ShardEndpoint
    private let httpClient: HTTPClient
    private let logger: Logger
    private let requestTimeout: Duration
    private var client: Client?
    private var transport: StreamableHTTPClientTransport?
    private var nextRequestNumber = 0
    private var connecting: Task<(Client, Server.Capabilities, StreamableHTTPClientTransport), any Error>?

    private(set) var status: HealthStatus = .unknown
    private(set) var tools: [Tool] = []
    private(set) var prompts: [Prompt] = []
    private(set) var resources: [Resource] = []
    private var capabilities: Server.Capabilities?
    private let progressRelay: ProgressRelay
    private(set) var lastProbe: Date?
    private(set) var latencyMs: Double?
    private(set) var lastError: String?
    /// The session's transport while the shard is healthy and reached over plain http: what
    /// `FastToolCalls` posts through from the event loop, without a hop onto this actor.
    nonisolated let fastLane = Mutex<StreamableHTTPClientTransport?>(nil)

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

    /// Health and lists read together, so the catalog never pairs one probe's status with
    /// another's tools.
    var state: (health: ComponentHealth, tools: [Tool], prompts: [Prompt], resources: [Resource]) {
        (health, tools, prompts, resources)
    }

    /// Initializes if needed and lists every tool (all pages). Returns true when the tool list
    /// or the status changed.
    func probe(timeout: Duration) async -> Bool {
        let started = ContinuousClock.now
        let before = (status, tools, prompts, resources)
        do {
            // On timeout the client is dropped, which fails its pending requests, so a shard that
            // accepts a connection but never answers cannot hold the probe loop.
            let listed = try await withDeadline(timeout, onTimeout: { await self.cancelConnecting(); await self.dropClient() }) {
                try await self.listEverything()
            }
            (tools, prompts, resources) = listed
            status = .healthy
            lastError = nil
            fastLane.withLock { [transport] in $0 = transport?.enforcesExchangeTimeout == true ? transport : nil }
        } catch {
            if status != .unhealthy {
                logger.warning("shard is down; hiding its tools", metadata: ["shard": "\(endpoint.name)", "error": "\(error)"])
            }
            status = .unhealthy
            fastLane.withLock { $0 = nil }
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

    /// Calls `tool` (the shard's own name) with `arguments` (a JSON object's bytes, passed through
    /// as the client sent them) and waits at most `timeout`; on timeout or client cancellation the
    /// shard gets `notifications/cancelled`.
    func callTool(_ tool: String, arguments: Data?, meta: Metadata?, timeout: Duration) async throws -> ShardToolResult {
        do {
            return try await callOnce(tool, arguments: arguments, meta: meta, timeout: timeout)
        } catch MCPClientTransportError.sessionExpired {
            // The shard restarted and forgot the session: nothing ran, so one retry is safe.
            await dropClient()
            return try await callOnce(tool, arguments: arguments, meta: meta, timeout: timeout)
        }
    }

    /// One `tools/call` on the shard's session, sent and read by the transport directly (see
    /// `StreamableHTTPClientTransport.exchange`); progress on the way is relayed before the result.
    private func callOnce(_ tool: String, arguments: Data?, meta: Metadata?, timeout: Duration) async throws -> ShardToolResult {
        nextRequestNumber += 1
        let id = "gw-\(nextRequestNumber)"
        let request = try ShardToolResult.request(id: id, tool: tool, arguments: arguments, meta: meta)
        let progressRelay = self.progressRelay
        let exchange: @Sendable (StreamableHTTPClientTransport, Duration?) async throws -> JSONRPCResponse = { transport, timeout in
            try await transport.exchange(request, id: id, timeout: timeout) { message in
                if let progress = Self.progress(in: message) {
                    await progressRelay.deliver(progress)
                } else {
                    await transport.deliverToClient(message)
                }
            }
        }
        let answer: JSONRPCResponse
        do {
            if let transport, transport.enforcesExchangeTimeout {
                // Connected to a plain-http shard: the HTTP client's timer is the deadline, which
                // spares the task a deadline runs its body in (0.07 ms of CPU per call, A/B).
                answer = try await exchange(transport, timeout)
            } else {
                // The deadline covers (re)connecting too: a shard that accepts a connection and
                // never answers `initialize` must not hold a call past GATEWAY_CALL_TIMEOUT.
                answer = try await withDeadline(timeout, "no answer from \(endpoint.name)", onTimeout: { await self.cancelConnecting() }) {
                    try await exchange(try await self.connectedSession().1, nil)
                }
            }
        } catch is DeadlineExceeded, HTTP1ClientError.timeout {
            if let client { await Self.sendCancelled(id, reason: "gateway timeout", via: client) }
            throw GatewayError.timedOut(tool, after: timeout)
        } catch is CancellationError {
            if let client { await Self.sendCancelled(id, reason: "client cancelled", via: client) }
            throw CancellationError()
        }
        return try ShardToolResult(answer)
    }

    /// Tells the shard to stop working on a request. From a task of its own: the caller's task may
    /// be cancelled, and a cancelled task's HTTP request is refused before it is sent.
    /// `notifications/cancelled` for a call made outside this actor (`FastToolCalls`).
    func sendCancelled(_ id: String, reason: String) async {
        if let client { await Self.sendCancelled(id, reason: reason, via: client) }
    }

    private static func sendCancelled(_ id: String, reason: String, via client: Client) async {
        await Task {
            try? await client.notify(CancelledNotification.message(.init(requestId: .string(id), reason: reason)))
        }.value
    }

    static func progress(in message: Data) -> ProgressNotification.Parameters? {
        guard let notification = try? decoder.decode(Message<ProgressNotification>.self, from: message),
              notification.method == ProgressNotification.name else { return nil }
        return notification.params
    }

    private static let decoder = JSONDecoder()

    private func connectedSession() async throws -> (Client, StreamableHTTPClientTransport) {
        let client = try await connectedClient()
        guard let transport else { throw MCPClientTransportError.closed }
        return (client, transport)
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
                return (client, initialized.capabilities, transport)
            } catch {
                await client.disconnect()
                throw error
            }
        }
        connecting = task
        defer { connecting = nil }
        let (client, capabilities, transport) = try await task.value
        self.client = client
        self.transport = transport
        self.capabilities = capabilities
        // Reconnected after the shard forgot the session: the fast lane may use the new one.
        if status == .healthy { fastLane.withLock { $0 = transport.enforcesExchangeTimeout ? transport : nil } }
        return client
    }

    /// Fails a connect in progress (its `initialize` may never be answered): awaiting a task's
    /// value ignores the waiter's cancellation, so a deadline must cancel the task itself.
    private func cancelConnecting() {
        connecting?.cancel()
    }

    func dropClient() async {
        fastLane.withLock { $0 = nil }
        guard let client else { return }
        self.client = nil
        self.transport = nil
        await client.disconnect()
    }
}
