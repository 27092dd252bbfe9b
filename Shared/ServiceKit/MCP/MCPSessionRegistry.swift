import Foundation
import Logging
import MCP
import Metrics
import ServiceLifecycle
import Synchronization

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
    /// How the application answers a request of an open session itself, or nil to let the
    /// session's SDK `Server` answer. `params` and `body` are the same message, parsed and raw.
    /// Thrown errors (e.g. `MCPError.invalidParams`) become the JSON-RPC error.
    public typealias Shortcut = @Sendable (
        _ method: String, _ params: [String: JSONValue], _ body: Data, _ request: MCP.HTTPRequest
    ) throws -> SessionShortcut?

    struct Session {
        let server: Server
        let transport: StatefulHTTPServerTransport
    }

    /// What the registry shares with code outside the actor (`admitsOutside`, `track`): each open
    /// session's last activity, and the calls in flight a client's `notifications/cancelled` or the
    /// end of the session cancels (shortcut work here, fast-lane calls in the gateway).
    struct Activity {
        var lastActive: ContinuousClock.Instant
        var calls: [RequestKey: (token: Int, cancel: @Sendable () -> Void)] = [:]
    }

    private let settings: MCPEndpointSettings
    private let serverFactory: ServerFactory
    private let shortcut: Shortcut?
    private let logger: Logger
    private let pipeline: any HTTPRequestValidationPipeline
    private let originValidator: OriginHostValidator
    private var sessions: [String: Session] = [:]
    private let activity = Mutex<[String: Activity]>([:])
    private let callTokens = Atomic<Int>(0)
    private let activeSessions: Gauge

    public init(
        settings: MCPEndpointSettings, logger: Logger, metricsLabel: String = "mcp_active_sessions",
        metricsDimensions: [(String, String)] = [], shortcut: Shortcut? = nil, serverFactory: @escaping ServerFactory
    ) {
        self.settings = settings
        self.serverFactory = serverFactory
        self.shortcut = shortcut
        self.logger = logger
        self.originValidator = OriginHostValidator(allowedOrigins: settings.allowedOrigins, allowedHosts: settings.allowedHosts)
        // A validator added here that reads another header needs it in `validatedHeaders` too.
        self.pipeline = StandardValidationPipeline(validators: [
            OriginHostValidator(allowedOrigins: settings.allowedOrigins, allowedHosts: settings.allowedHosts),
            JSONContentTypeValidator(),
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
        // Parsed once for the checks and shortcuts below.
        let message = request.method.uppercased() == "POST" ? request.body.flatMap { try? JSONValue.parse($0) } : nil
        if let rejection = Self.invalidID(in: message) { return rejection }
        let sessionID = request.header(HTTPHeaderName.sessionID)
        if let sessionID, let session = sessions[sessionID] {
            activity.withLock { $0[sessionID]?.lastActive = .now }
            if let answer = await shortcutAnswer(request, message: message, sessionID: sessionID) { return answer }
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
        guard let method = message?["method"]?.stringValue else {
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
            sessions[sessionID] = Session(server: server, transport: transport)
            activity.withLock { $0[sessionID] = Activity(lastActive: .now) }
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
        cancelCalls(of: sessionID)
        await session.server.stop()
        await session.transport.disconnect()
        logger.debug("MCP session closed", metadata: ["session": "\(sessionID)", "reason": "\(reason)"])
    }

    private func reapIdle() {
        let deadline = ContinuousClock.now - settings.sessionIdleTimeout
        let idle = activity.withLock { $0.filter { $0.value.lastActive < deadline }.map(\.key) }
        guard !idle.isEmpty else { return }
        for sessionID in idle {
            guard let session = sessions.removeValue(forKey: sessionID) else { continue }
            cancelCalls(of: sessionID)
            Task { await session.server.stop() }
        }
        activeSessions.record(sessions.count)
        logger.info("closed idle MCP sessions", metadata: ["count": "\(idle.count)"])
    }

    /// Forgets a session's activity and cancels its calls in flight.
    private func cancelCalls(of sessionID: String) {
        let calls = activity.withLock { $0.removeValue(forKey: sessionID)?.calls.values.map(\.cancel) ?? [] }
        for cancel in calls { cancel() }
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

    /// A request of an open session answered by `shortcut`, as plain JSON, after the same
    /// validation the SDK transport runs; a `notifications/cancelled` cancels shortcut work and
    /// then reaches the SDK `Server` too (for work of its own). Why: the SDK's typed handlers
    /// turn every params and result into its `Value` and back (decode with a regular expression
    /// run on every string, encode again), which made a session's `tools/list` cost milliseconds
    /// of CPU for a list the application already holds encoded, and a `tools/call` through the
    /// gateway twice the CPU of the same call in the stateless era.
    private func shortcutAnswer(_ request: MCP.HTTPRequest, message: JSONValue?, sessionID: String) async -> MCP.HTTPResponse? {
        guard let shortcut, let body = request.body, case .object(let object)? = message,
              let method = object["method"]?.stringValue else { return nil }
        let params = object["params"]?.objectValue ?? [:]
        guard let id = object["id"], id != .null else {
            if method == "notifications/cancelled", let key = RequestKey(params["requestId"]) {
                activity.withLock { $0[sessionID]?.calls.removeValue(forKey: key) }?.cancel()
            }
            return nil
        }
        let idJSON = RawJSON.member("id", in: body) ?? Data("null".utf8)
        let answer: SessionShortcut
        do {
            guard let chosen = try shortcut(method, params, body, request) else { return nil }
            answer = chosen
        } catch {
            return Self.reply(idJSON: idJSON, .failure(error), sessionID: sessionID)
        }
        if let rejection = validateSessionPost(request, sessionID: sessionID) { return rejection }
        switch answer {
        case .result(let result):
            return Self.reply(idJSON: idJSON, .success(result), sessionID: sessionID)
        case .work(let work):
            let task = Task { try await work() }
            let token = track(sessionID: sessionID, requestID: id) { task.cancel() }
            let outcome = await task.result
            if let token { finished(sessionID: sessionID, requestID: id, token: token) }
            return Self.reply(idJSON: idJSON, outcome, sessionID: sessionID)
        }
    }

    // MARK: - Answering outside the actor

    /// Whether a POST of session `sessionID` passes everything `handle` checks before a shortcut
    /// answers it (Origin and Host, content type, protocol version, an open session);
    /// marks the session active. For code that answers such a request without a hop onto this
    /// actor (the gateway's fast lane, on an event loop); false: send it to `handle`.
    public nonisolated func admitsOutside(_ request: MCP.HTTPRequest, sessionID: String) -> Bool {
        guard validateSessionPost(request, sessionID: sessionID) == nil else { return false }
        return activity.withLock { sessions in
            guard sessions[sessionID] != nil else { return false }
            sessions[sessionID]?.lastActive = .now
            return true
        }
    }

    /// What the SDK transport checks of a POST to an open session (Origin and Host, content type,
    /// protocol version, session header), for requests answered without it: nil, or
    /// the rejection the transport would have given. One helper for the actor's shortcuts and the
    /// lane outside it, so both check the same.
    private nonisolated func validateSessionPost(_ request: MCP.HTTPRequest, sessionID: String) -> MCP.HTTPResponse? {
        let context = HTTPValidationContext(
            httpMethod: "POST", sessionID: sessionID, isInitializationRequest: false, supportedProtocolVersions: Version.supported)
        // Only the headers the validators read: the SDK's `header(_:)` lowercases every name on
        // each lookup (perf: the largest part of a session's fast-lane call before this).
        let validated = MCP.HTTPRequest(
            method: request.method, headers: request.headers.filter { Self.validatedHeaders.contains($0.key.lowercased()) }, body: nil,
            path: request.path)
        return pipeline.validate(validated, context: context)
    }

    /// The headers `pipeline`'s validators read (lowercased); a validator added to the pipeline
    /// that reads another header needs it here too (`MCPSessionRegistryTests` sends each one).
    static let validatedHeaders: Set<String> = ["origin", "host", "content-type", "mcp-protocol-version", "mcp-session-id"]

    /// Registers a call in flight: the client's `notifications/cancelled` for `requestID` and the
    /// end of the session run `cancel`. Nil when the session has ended (cancel it now) or the id
    /// cannot be cancelled by the client (not a string or an integer).
    public nonisolated func track(sessionID: String, requestID: JSONValue?, cancel: @escaping @Sendable () -> Void) -> Int? {
        guard let key = RequestKey(requestID) else { return nil }
        let token = callTokens.add(1, ordering: .relaxed).newValue
        let tracked = activity.withLock { sessions in
            guard sessions[sessionID] != nil else { return false }
            sessions[sessionID]?.calls[key] = (token, cancel)
            return true
        }
        return tracked ? token : nil
    }

    /// The call `track` returned `token` for has ended.
    public nonisolated func finished(sessionID: String, requestID: JSONValue?, token: Int) {
        guard let key = RequestKey(requestID) else { return }
        activity.withLock { sessions in
            if sessions[sessionID]?.calls[key]?.token == token { sessions[sessionID]?.calls[key] = nil }
        }
    }

    /// `{"jsonrpc":"2.0","id":…,"result":…}` around an encoded result, or the error as the SDK
    /// server would have written it.
    public static func reply(idJSON: Data, _ outcome: Result<Data, any Error>, sessionID: String) -> MCP.HTTPResponse {
        var envelope = Data(#"{"jsonrpc":"2.0","id":"#.utf8)
        envelope.append(idJSON)
        switch outcome {
        case .success(let result):
            envelope.append(Data(#","result":"#.utf8))
            envelope.append(result)
        case .failure(let error):
            let mcpError: MCPError = switch error {
            case let error as MCPError: error
            case is CancellationError: .serverError(code: -32800, message: "Request cancelled")
            default: .internalError(error.localizedDescription)
            }
            envelope.append(Data(#","error":"#.utf8))
            envelope.append((try? JSONEncoder().encode(mcpError)) ?? Data(#"{"code":-32603,"message":"Internal error"}"#.utf8))
        }
        envelope.append(UInt8(ascii: "}"))
        return .data(envelope, headers: [HTTPHeaderName.contentType: "application/json", HTTPHeaderName.sessionID: sessionID])
    }

    /// A request whose id is neither a string nor an integer (MCP forbids null too): the 400 it
    /// gets. Why here: the SDK drops such a request without an answer (an id of `true`) or takes it
    /// for a notification (202 for `1.5`, `null`, `{}`), and its client waits forever.
    static func invalidID(in message: JSONValue?) -> MCP.HTTPResponse? {
        guard case .object(let object)? = message, object["method"] != nil, let id = object["id"], !id.isRequestID else { return nil }
        return .error(statusCode: 400, .invalidRequest("Invalid Request: the id must be a string or an integer"))
    }

    static func newSessionID() -> String {
        // 128 random bits from the system generator, as hex: visible ASCII, hard to guess.
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(generator.next() as UInt64, radix: 16) }.map { String(repeating: "0", count: 16 - $0.count) + $0 }.joined()
    }
}

extension JSONValue {
    /// Whether this can be a JSON-RPC request's id in MCP: a string or an integer (not null).
    public var isRequestID: Bool {
        switch self {
        case .string: true
        case .number(let number): Int(exactly: number) != nil
        default: false
        }
    }
}

/// What a `MCPSessionRegistry.Shortcut` answers with.
public enum SessionShortcut: Sendable {
    /// The encoded result, already in memory (a one-page `tools/list`).
    case result(Data)
    /// Work that returns the encoded result (the gateway's `tools/call`, forwarded as bytes).
    /// Cancelled by the client's `notifications/cancelled` for its id, and when the session ends.
    case work(@Sendable () async throws -> Data)
}

/// A JSON-RPC request id as a dictionary key: `1` and `"1"` are different ids.
struct RequestKey: Hashable {
    let text: String

    init?(_ id: JSONValue?) {
        switch id {
        case .string(let text)?: self.text = "s" + text
        case .number(let number)?:
            guard let integer = Int(exactly: number) else { return nil }
            self.text = "n\(integer)"
        default: return nil
        }
    }
}

private struct FixedSessionID: SessionIDGenerator {
    let id: String
    func generateSessionID() -> String { id }
}
