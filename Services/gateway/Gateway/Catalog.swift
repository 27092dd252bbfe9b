import AsyncHTTPClient
import ServiceKit
import Foundation
import Logging
import MCP
import MCPShared
import Metrics
import Synchronization

/// The gateway's view of every shard: connections, the aggregated tool list, and routing.
///
/// Reads (`snapshot`) take a lock, never an actor hop or a network call, so `initialize` and
/// `tools/list` are answered in microseconds whatever the shards are doing.
final class Catalog: Sendable {
    private let views: Mutex<[String: CatalogSnapshot]>
    let profiles: [GatewayProfile]
    private let connections = Mutex([String: ShardConnection]())
    private let published = Mutex([String: ComponentHealth]())
    private let httpClient: HTTPClient
    private let logger: Logger
    private let callTimeout: Duration
    private let probeTimeout: Duration
    private let changeHandlers = Mutex([@Sendable ([String: Set<ListKind>]) async -> Void]())
    let progressRelay = ProgressRelay()

    init(httpClient: HTTPClient, callTimeout: Duration, probeTimeout: Duration, profiles: [GatewayProfile] = [GatewayProfile(name: GatewayProfile.defaultName)], logger: Logger) {
        self.profiles = profiles
        self.views = Mutex(Dictionary(profiles.map { ($0.name, CatalogSnapshot.empty) }, uniquingKeysWith: { first, _ in first }))
        self.httpClient = httpClient
        self.callTimeout = callTimeout
        self.probeTimeout = probeTimeout
        self.logger = logger
    }

    /// The default profile's view.
    var snapshot: CatalogSnapshot { snapshot(for: GatewayProfile.defaultName) }

    func snapshot(for profile: String) -> CatalogSnapshot {
        views.withLock { $0[profile] } ?? .empty
    }

    /// Collisions in any profile's view, for `/health`.
    var collisions: [String] {
        Array(Set(views.withLock { $0.values.flatMap(\.collisions) })).sorted()
    }

    /// Each shard's health as of the last rebuild of the lists, so `/health` never calls a shard
    /// down while its tools are still listed (or the other way round); a shard added since then
    /// reports its own.
    func shardHealth() async -> [ComponentHealth] {
        let known = published.withLock { $0 }
        var healths: [ComponentHealth] = []
        for connection in shardConnections {
            if let health = known[connection.endpoint.name] { healths.append(health) } else { healths.append(await connection.health) }
        }
        return healths
    }

    var shardConnections: [ShardConnection] {
        connections.withLock { Array($0.values) }.sorted { $0.endpoint.name < $1.endpoint.name }
    }

    /// Called after lists change, with the kinds that changed per profile (to send
    /// `notifications/tools/list_changed` and its siblings).
    func onListsChanged(_ handler: @escaping @Sendable (_ changes: [String: Set<ListKind>]) async -> Void) {
        changeHandlers.withLock { $0.append(handler) }
    }

    /// Makes the set of shards match `endpoints`, then probes the new ones at once.
    func setShards(_ endpoints: [ShardEndpoint]) async {
        var added: [ShardConnection] = []
        var removed: [ShardConnection] = []
        connections.withLock { connections in
            let wanted = Dictionary(endpoints.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            for (name, connection) in connections where wanted[name] != connection.endpoint {
                removed.append(connection)
                connections[name] = nil
            }
            for (name, endpoint) in wanted where connections[name] == nil {
                let connection = ShardConnection(endpoint: endpoint, httpClient: httpClient, requestTimeout: callTimeout, progressRelay: progressRelay, logger: logger)
                connections[name] = connection
                added.append(connection)
            }
        }
        for connection in removed {
            await connection.dropClient()
            logger.info("shard removed", metadata: ["shard": "\(connection.endpoint.name)"])
        }
        await probe(added)
        if !removed.isEmpty && added.isEmpty { await rebuild(changed: true) }
    }

    /// Probes every shard in parallel; one slow shard delays only its own result.
    func probeAll() async {
        await probe(shardConnections)
    }

    private func probe(_ shards: [ShardConnection]) async {
        guard !shards.isEmpty else { return }
        let timeout = probeTimeout
        let changed = await withTaskGroup(of: Bool.self) { group in
            for shard in shards { group.addTask { await shard.probe(timeout: timeout) } }
            return await group.reduce(false) { $0 || $1 }
        }
        await rebuild(changed: changed)
    }

    private func rebuild(changed: Bool) async {
        var listed: [ShardOffer] = []
        var healths: [String: ComponentHealth] = [:]
        var up = 0
        for connection in shardConnections {
            let state = await connection.state
            healths[connection.endpoint.name] = state.health
            Gauge(label: "gateway_shard_up", dimensions: [("shard", connection.endpoint.name)]).record(state.health.status == .healthy ? 1 : 0)
            if state.health.status == .healthy {
                up += 1
                listed.append(ShardOffer(name: connection.endpoint.name, tools: state.tools, prompts: state.prompts, resources: state.resources))
            }
        }
        published.withLock { $0 = healths }
        let known = collisions
        let next = Dictionary(profiles.map { ($0.name, CatalogSnapshot.build(shards: listed, for: $0)) }, uniquingKeysWith: { first, _ in first })
        for collision in Set(next.values.flatMap(\.collisions)) where !known.contains(collision) {
            logger.warning("tool name collision", metadata: ["detail": "\(collision)"])
        }
        let changes = views.withLock { views in
            var changes: [String: Set<ListKind>] = [:]
            for (name, view) in next {
                let old = views[name] ?? .empty
                var kinds = Set<ListKind>()
                if old.tools != view.tools { kinds.insert(.tools) }
                if old.prompts != view.prompts { kinds.insert(.prompts) }
                if old.resources != view.resources { kinds.insert(.resources) }
                if !kinds.isEmpty { changes[name] = kinds }
            }
            views = next
            return changes
        }
        Gauge(label: "gateway_tools").record(listed.reduce(0) { $0 + $1.tools.count })
        Gauge(label: "gateway_shards_up").record(up)
        if changed && !changes.isEmpty {
            for handler in changeHandlers.withLock({ $0 }) { await handler(changes) }
        }
    }

    func connection(named shard: String) -> ShardConnection? {
        connections.withLock { $0[shard] }
    }

    /// Routes a call by its aggregated name and returns the shard's result unchanged.
    /// Calls a tool by its gateway name; `arguments` is a JSON object's bytes.
    func call(_ name: String, arguments: Data?, meta: Metadata?, profile: String = GatewayProfile.defaultName) async throws -> ShardToolResult {
        guard let route = snapshot(for: profile).routes[name] else { throw GatewayError.unknownTool(name) }
        return try await call(shard: route.shard, tool: route.originalName, arguments: arguments, meta: meta, reportedName: name)
    }

    func getPrompt(_ name: String, arguments: [String: String]?, profile: String = GatewayProfile.defaultName) async throws -> GetPrompt.Result {
        guard let route = snapshot(for: profile).promptRoutes[name] else {
            throw MCPError.invalidParams("Unknown prompt '\(name)'. Call prompts/list for the prompts available now.")
        }
        let connection = try await healthyConnection(route.shard)
        do {
            return try await connection.getPrompt(route.originalName, arguments: arguments)
        } catch {
            throw GatewayError.shardFailed(route.shard, error)
        }
    }

    func readResource(_ uri: String, profile: String = GatewayProfile.defaultName) async throws -> ReadResource.Result {
        guard let shard = snapshot(for: profile).resourceShards[uri] else {
            throw MCPError.invalidParams("Unknown resource '\(uri)'. Call resources/list for the resources available now.")
        }
        let connection = try await healthyConnection(shard)
        do {
            return try await connection.readResource(uri)
        } catch {
            throw GatewayError.shardFailed(shard, error)
        }
    }

    private func healthyConnection(_ shard: String) async throws -> ShardConnection {
        guard let connection = connection(named: shard) else {
            throw GatewayError.shardUnavailable(shard, detail: "no shard of that name is registered")
        }
        guard await connection.status == .healthy else {
            throw GatewayError.shardUnavailable(shard, detail: await connection.lastError)
        }
        return connection
    }

    /// Calls a shard's tool by the shard's own names (the REST form).
    func call(shard: String, tool: String, arguments: Data?, meta: Metadata?, reportedName: String? = nil) async throws -> ShardToolResult {
        let connection = try await healthyConnection(shard)
        let started = ContinuousClock.now
        var outcome = "error"
        defer { Self.recordCall(shard: shard, tool: tool, outcome: outcome, started: started) }
        do {
            let result = try await connection.callTool(tool, arguments: arguments, meta: meta, timeout: callTimeout)
            outcome = result.isError ? "tool_error" : "ok"
            return result
        } catch let error as MCPError {
            outcome = error.code == -32001 ? "timeout" : "error"
            throw error
        } catch is CancellationError {
            outcome = "cancelled"
            throw CancellationError()
        } catch {
            throw shardFailed(connection, error)
        }
    }

    /// The time a call may take (`GATEWAY_CALL_TIMEOUT`).
    var toolCallTimeout: Duration { callTimeout }

    /// Where a call by its aggregated name goes when it can take the fast lane: the shard's
    /// connection and its open plain-http session. Nil otherwise (unknown tool, shard down or
    /// behind https, no session yet): such calls take the normal path.
    func fastRoute(_ name: String, profile: String) -> (connection: ShardConnection, route: ShardRoute, transport: StreamableHTTPClientTransport)? {
        guard let route = snapshot(for: profile).routes[name], let connection = connection(named: route.shard),
              let transport = connection.fastLane.withLock({ $0 }), transport.postsFromEventLoop else { return nil }
        return (connection, route, transport)
    }

    /// Counts a finished call (`gateway_tool_calls_total`) and times it.
    static func recordCall(shard: String, tool: String, outcome: String, started: ContinuousClock.Instant) {
        callCounters.for(shard, tool, outcome).increment()
        callDurations.for(shard).recordNanoseconds(Int64((ContinuousClock.now - started) / .nanoseconds(1)))
    }

    private static let callCounters = MetricHandles(["shard", "tool", "outcome"]) { Counter(label: "gateway_tool_calls_total", dimensions: $0) }
    private static let callDurations = MetricHandles(["shard"]) {
        Timer(label: "gateway_tool_call_duration_seconds", dimensions: $0, preferredDisplayUnit: .seconds)
    }
    /// Calls `FastToolCalls` took, by shard.
    static let fastLaneCalls = MetricHandles(["shard"]) { Counter(label: "gateway_fast_lane_calls_total", dimensions: $0) }

    /// The error a client sees when a call failed in transport; the shard is probed at once
    /// (it is likely down) rather than in 15 s.
    func shardFailed(_ connection: ShardConnection, _ error: any Error) -> MCPError {
        Task { await self.probe([connection]) }
        return GatewayError.shardFailed(connection.endpoint.name, error)
    }
}
