import Foundation
import Hummingbird
import Logging
import MCP
import MCPShared
import Metrics
import ServiceKit
import ServiceLifecycle

/// Settings every shard reads.
public struct ShardSettings: Sendable {
    public var listen: ListenSettings
    public var endpoint: MCPEndpointSettings

    public init(listen: ListenSettings, endpoint: MCPEndpointSettings = .init()) {
        self.listen = listen
        self.endpoint = endpoint
    }

    public init(config: ServiceConfig, defaultPort: Int) throws {
        self.listen = try ListenSettings(config: config, defaultPort: defaultPort)
        self.endpoint = MCPEndpointSettings(
            allowedOrigins: config.list("MCP_ALLOWED_ORIGINS"),
            sessionIdleTimeout: try config.duration("MCP_SESSION_IDLE_TIMEOUT", defaultSeconds: 1800))
    }

    public static func declared(defaultPort: Int) -> [SettingSpec] {
        SettingSpec.common(port: defaultPort) + [
            SettingSpec("MCP_ALLOWED_ORIGINS", default: "", "Browser origins allowed to call /mcp (comma-separated); requests without Origin always pass."),
            SettingSpec("MCP_SESSION_IDLE_TIMEOUT", default: "1800", "Seconds before an idle MCP session is closed."),
        ]
    }
}

/// Builds a shard's HTTP application: MCP at `/mcp`, `GET /manifest`, `GET /health`, `GET /metrics`.
///
/// ```swift
/// let app = ShardApplication.build(definition: myShard, settings: settings, logger: logger)
/// try await app.runService()
/// ```
public enum ShardApplication {
    /// `services` run beside the server and stop after it (e.g. the shard's own `HTTPClientService`).
    public static func build(
        definition: ShardDefinition, settings: ShardSettings, logger: Logger,
        health: (@Sendable () async -> [ComponentHealth])? = nil,
        services: [any Service] = []
    ) -> some ApplicationProtocol {
        let identity = ServiceIdentity(name: definition.name + "-shard", version: definition.version)
        let dispatcher = ToolDispatcher(definition: definition, logger: logger)
        // A session's one-page tools/list is the shard's fixed list, encoded once, and its
        // tools/call goes straight to the tool (see MCPSessionRegistry.shortcutAnswer for why not
        // through the SDK server).
        let sessions = MCPSessionRegistry(
            settings: settings.endpoint, logger: logger,
            shortcut: { method, params, body, _ in
                switch method {
                case "tools/list" where params["cursor"] == nil: .result(dispatcher.encodedList)
                case "tools/call": dispatcher.shortcutCall(body)
                default: nil
                }
            }
        ) { _, _ in
            await dispatcher.makeServer()
        }
        let router = Router()
        router.addMCPEndpoint("/mcp", sessions: sessions, settings: settings.endpoint)
        router.get("/manifest") { _, _ in try JSONResponse.make(definition.manifest) }
        router.addServiceEndpoints {
            let components = await health?() ?? []
            let degraded = components.contains { $0.status == .unhealthy }
            return HealthReport(
                status: degraded ? .degraded : .ok, service: identity.name, version: identity.version,
                uptimeSeconds: identity.uptimeSeconds, components: components)
        }
        return Application(
            router: router, server: .suiteHTTP1(), configuration: settings.listen.applicationConfiguration,
            services: services + [sessions], logger: logger)
    }
}

/// Answers `tools/list` and `tools/call` for one shard; one SDK `Server` per session shares it.
struct ToolDispatcher: Sendable {
    let definition: ShardDefinition
    let logger: Logger
    let toolsByName: [String: ShardTool]
    let listResult: ListTools.Result
    /// `listResult` as JSON.
    let encodedList: Data

    init(definition: ShardDefinition, logger: Logger) {
        self.definition = definition
        self.logger = logger
        self.toolsByName = Dictionary(definition.tools.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.listResult = ListTools.Result(tools: definition.tools.map(\.definition))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        self.encodedList = (try? encoder.encode(listResult)) ?? Data(#"{"tools":[]}"#.utf8)
    }

    func makeServer() async -> Server {
        let server = Server(
            name: definition.name, version: definition.version,
            instructions: definition.description,
            capabilities: .init(tools: .init(listChanged: false)))
        let listResult = self.listResult
        await server.withMethodHandler(ListTools.self) { _ in listResult }
        await server.withMethodHandler(CallTool.self) { params in
            try await self.call(params)
        }
        return server
    }

    /// A session's `tools/call` as `SessionShortcut` work: the same `call` the session's SDK
    /// `Server` makes, its result encoded as that server encodes it. Why: the SDK server's request
    /// decoding, dispatch, SSE stream and event store cost a shard more CPU than the tool itself
    /// (perf and the gateway benchmark's shard column), and more again when every call comes
    /// through one session, as the gateway's do. Nil when the params do not decode, so the SDK
    /// server answers that with its own error.
    func shortcutCall(_ body: Data) -> SessionShortcut? {
        guard let request = try? JSONDecoder().decode(CallToolRequest.self, from: body) else { return nil }
        return .work { try Self.resultEncoder.encode(await self.call(request.params)) }
    }

    private struct CallToolRequest: Decodable {
        let params: CallTool.Parameters
    }

    /// The SDK server's encoder settings for results.
    private static let resultEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    func call(_ params: CallTool.Parameters) async throws -> CallTool.Result {
        guard let tool = toolsByName[params.name] else {
            throw MCPError.invalidParams("Unknown tool '\(params.name)'. Available: \(toolsByName.keys.sorted().joined(separator: ", "))")
        }
        let started = ContinuousClock.now
        let result: CallTool.Result
        do {
            result = try await tool.handler.call(ToolArguments(params.arguments))
        } catch let error as ToolInputError {
            result = .failure("Invalid input: \(error.message)")
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as MCPError {
            throw error
        } catch {
            logger.warning("tool failed", metadata: ["tool": "\(params.name)", "error": "\(error)"])
            result = .failure("\(params.name) failed: \(error.plainDescription)")
        }
        let outcome = result.isError == true ? "error" : "ok"
        Counter(label: "shard_tool_calls_total", dimensions: [("tool", params.name), ("outcome", outcome)]).increment()
        Timer(label: "shard_tool_call_duration_seconds", dimensions: [("tool", params.name)], preferredDisplayUnit: .seconds)
            .recordNanoseconds(Int64((ContinuousClock.now - started) / .nanoseconds(1)))
        return result
    }
}
