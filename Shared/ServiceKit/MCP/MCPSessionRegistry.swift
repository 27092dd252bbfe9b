import Foundation
import Logging
import MCP
import Metrics
import ServiceLifecycle

/// Sessions of one MCP Streamable HTTP endpoint: one SDK `Server` and one
/// `StatefulHTTPServerTransport` per session, created on `initialize`, found by `Mcp-Session-Id`,
/// closed on DELETE, on idle timeout, and at shutdown.
///
/// It is a `Service`: `run()` reaps idle sessions (the SDK transport's event store only grows
/// while a session lives) and closes every session on graceful shutdown, so open SSE streams
/// end and the process can exit.
///
/// ```swift
/// let sessions = MCPSessionRegistry(settings: .init(), logger: logger) { sessionID, request in
///     let server = Server(name: "demo", version: "1.0", capabilities: .init(tools: .init()))
///     await server.withMethodHandler(ListTools.self) { _ in .init(tools: []) }
///     return server
/// }
/// let response = await sessions.handle(mcpRequest)
/// ```
public actor MCPSessionRegistry: Service {
    public typealias ServerFactory = @Sendable (_ sessionID: String, _ request: MCP.HTTPRequest) async throws -> Server
    /// The encoded `result` of a read-only request the application can answer from memory (the
    /// gateway's one-page `tools/list`), or nil to let the session's SDK `Server` answer.
    public typealias CachedResult = @Sendable (_ method: String, _ params: [String: Any]) -> Data?

    struct Session {
        let server: Server
        let transport: StatefulHTTPServerTransport
        var lastActive: ContinuousClock.Instant
    }

    private let settings: MCPEndpointSettings
    private let serverFactory: ServerFactory
    private let cachedResult: CachedResult?
    private let logger: Logger
    private let pipeline: any HTTPRequestValidationPipeline
    private let originValidator: OriginHostValidator
    private var sessions: [String: Session] = [:]
    private let activeSessions: Gauge

    public init(
        settings: MCPEndpointSettings, logger: Logger, metricsLabel: String = "mcp_active_sessions",
        metricsDimensions: [(String, String)] = [], cachedResult: CachedResult? = nil, serverFactory: @escaping ServerFactory
    ) {
        self.settings = settings
        self.serverFactory = serverFactory
        self.cachedResult = cachedResult
        self.logger = logger
        self.originValidator = OriginHostValidator(allowedOrigins: settings.allowedOrigins, allowedHosts: settings.allowedHosts)
        self.pipeline = StandardValidationPipeline(validators: [
            OriginHostValidator(allowedOrigins: settings.allowedOrigins, allowedHosts: settings.allowedHosts),
            ContentTypeValidator(),
            ProtocolVersionValidator(),
            SessionValidator(),
        ])
        self.activeSessions = Gauge(label: metricsLabel, dimensions: metricsDimensions)
    }

    public var count: Int { sessions.count }

    /// Every live session's server, e.g. to send `notifications/tools/list_changed`.
    public var servers: [Server] { sessions.values.map(\.server) }

    /// Answers one HTTP request to the MCP endpoint.
    public func handle(_ request: MCP.HTTPRequest) async -> MCP.HTTPResponse {
        let context = HTTPValidationContext(
            httpMethod: request.method, sessionID: nil, isInitializationRequest: false,
            supportedProtocolVersions: Version.supported)
        if let rejection = originValidator.validate(request, context: context) {
            return rejection
        }
        let sessionID = request.header(HTTPHeaderName.sessionID)
        if let sessionID, var session = sessions[sessionID] {
            session.lastActive = .now
            sessions[sessionID] = session
            if let answer = cachedAnswer(request, sessionID: sessionID) { return answer }
            let response = await session.transport.handleRequest(request)
            if request.method.uppercased() == "DELETE" && response.statusCode == 200 {
                await close(sessionID, reason: "client ended the session")
            }
            return response
        }
        if sessionID != nil {
            // Unknown or expired: 404 tells the client to initialize again.
            return .error(statusCode: 404, .invalidRequest("Not Found: session not found or expired; initialize a new session"))
        }
        guard request.method.uppercased() == "POST" else {
            if request.method.uppercased() == "GET" || request.method.uppercased() == "DELETE" {
                return .error(statusCode: 400, .invalidRequest("Bad Request: \(HTTPHeaderName.sessionID) header is required"))
            }
            return .error(statusCode: 405, .invalidRequest("Method Not Allowed"), extraHeaders: [HTTPHeaderName.allow: "GET, POST, DELETE"])
        }
        guard let body = request.body, let method = Self.method(of: body) else {
            return .error(statusCode: 400, .parseError("Parse error: the body is not a JSON-RPC message"))
        }
        guard method == "initialize" else {
            return .error(statusCode: 400, .invalidRequest("Bad Request: no session; send 'initialize' first (got '\(method)')"))
        }
        return await createSession(for: request)
    }

    private func createSession(for request: MCP.HTTPRequest) async -> MCP.HTTPResponse {
        if sessions.count >= settings.maxSessions {
            reapIdle()
            if sessions.count >= settings.maxSessions {
                return .error(statusCode: 503, .internalError("Too many sessions (\(settings.maxSessions)); try again shortly"), extraHeaders: ["Retry-After": "5"])
            }
        }
        let sessionID = Self.newSessionID()
        let transport = StatefulHTTPServerTransport(
            sessionIDGenerator: FixedSessionID(id: sessionID), validationPipeline: pipeline, logger: nil)
        do {
            let server = try await serverFactory(sessionID, request)
            try await server.start(transport: transport)
            sessions[sessionID] = Session(server: server, transport: transport, lastActive: .now)
            activeSessions.record(sessions.count)
            let response = await transport.handleRequest(request)
            if case .error = response {
                await close(sessionID, reason: "initialize was rejected")
            } else {
                logger.debug("MCP session opened", metadata: ["session": "\(sessionID)"])
            }
            return response
        } catch {
            await transport.disconnect()
            logger.error("could not open an MCP session", metadata: ["error": "\(error)"])
            return .error(statusCode: 500, .internalError("Could not open a session: \(error.plainDescription)"))
        }
    }

    private func close(_ sessionID: String, reason: String) async {
        guard let session = sessions.removeValue(forKey: sessionID) else { return }
        activeSessions.record(sessions.count)
        await session.server.stop()
        await session.transport.disconnect()
        logger.debug("MCP session closed", metadata: ["session": "\(sessionID)", "reason": "\(reason)"])
    }

    private func reapIdle() {
        let deadline = ContinuousClock.now - settings.sessionIdleTimeout
        let idle = sessions.filter { $0.value.lastActive < deadline }.map(\.key)
        guard !idle.isEmpty else { return }
        for sessionID in idle {
            guard let session = sessions.removeValue(forKey: sessionID) else { continue }
            Task { await session.server.stop() }
        }
        activeSessions.record(sessions.count)
        logger.info("closed idle MCP sessions", metadata: ["count": "\(idle.count)"])
    }

    private func closeAll() async {
        for sessionID in Array(sessions.keys) {
            await close(sessionID, reason: "shutdown")
        }
    }

    /// Reaps idle sessions until graceful shutdown, then closes them all.
    public func run() async throws {
        let sweep = min(settings.sessionIdleTimeout / 4, .seconds(30))
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: max(sweep, .milliseconds(100)))
                await self.reapIdle()
            }
        }
        await closeAll()
    }

    /// The `method` of a JSON-RPC message, or nil when the body is not one.
    /// A request of an open session answered from `cachedResult`, as plain JSON, after the same
    /// validation the SDK transport runs. Why: the SDK's typed handlers turn every result into its
    /// `Value` and back (encode, decode with a regular expression run on every string, encode
    /// again), which made a session's `tools/list` cost milliseconds of CPU for a list the
    /// application already holds encoded.
    private func cachedAnswer(_ request: MCP.HTTPRequest, sessionID: String) -> MCP.HTTPResponse? {
        guard let cachedResult, request.method.uppercased() == "POST", let body = request.body,
              let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let method = object["method"] as? String, let id = object["id"], !(id is NSNull) else { return nil }
        guard let result = cachedResult(method, object["params"] as? [String: Any] ?? [:]) else { return nil }
        let context = HTTPValidationContext(
            httpMethod: "POST", sessionID: sessionID, isInitializationRequest: false, supportedProtocolVersions: Version.supported)
        if let rejection = pipeline.validate(request, context: context) { return rejection }
        let idJSON = RawJSON.member("id", in: body) ?? Data("null".utf8)
        var envelope = Data(#"{"jsonrpc":"2.0","id":"#.utf8)
        envelope.append(idJSON)
        envelope.append(Data(#","result":"#.utf8))
        envelope.append(result)
        envelope.append(UInt8(ascii: "}"))
        return .data(envelope, headers: [HTTPHeaderName.contentType: "application/json", HTTPHeaderName.sessionID: sessionID])
    }

    static func method(of body: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return nil }
        return object["method"] as? String
    }

    static func newSessionID() -> String {
        // 128 random bits from the system generator, as hex: visible ASCII, hard to guess.
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(generator.next() as UInt64, radix: 16) }.map { String(repeating: "0", count: 16 - $0.count) + $0 }.joined()
    }
}

private struct FixedSessionID: SessionIDGenerator {
    let id: String
    func generateSessionID() -> String { id }
}
