import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MCP
import NIOCore
import ServiceKit

/// Everything served for one client profile: the MCP endpoint (both protocol eras), the OpenAPI
/// tool-server facade, and bearer auth in front of both.
struct ProfileEndpoints: Sendable {
    let profile: GatewayProfile
    let sessions: MCPSessionRegistry
    let modern: ModernMCP
    let auth: BearerAuth
    let catalog: Catalog
    let endpoint: MCPEndpointSettings
    let trustedNetworks: TrustedNetworks
    let originValidator: OriginHostValidator

    var base: String { "/v/\(profile.name)" }

    /// Where this profile's MCP endpoint is served.
    var mcpPaths: [String] {
        profile.name == GatewayProfile.defaultName ? ["/mcp", base + "/mcp"] : [base + "/mcp"]
    }

    func addRoutes(to router: Router<GatewayRequestContext>) {
        for path in mcpPaths {
            router.post(RouterPath(path), use: mcp)
            router.get(RouterPath(path), use: mcp)
            router.delete(RouterPath(path), use: mcp)
            // Other methods get the registry's 405 with `Allow`, not the router's empty 404.
            router.put(RouterPath(path), use: mcp)
            router.patch(RouterPath(path), use: mcp)
        }
        // Browser-side "direct" tool servers call the facade from Open WebUI's page: CORS. Bearer
        // tokens (no cookies) carry the authority, so any origin may ask.
        let facade = router.group(RouterPath(base)).add(middleware: CORSMiddleware(
            allowOrigin: .originBased, allowHeaders: [.accept, .authorization, .contentType, .origin],
            allowMethods: [.get, .post, .options]))
        facade.get("openapi.json", use: openAPIDocument)
        facade.post("tools/{tool}", use: callThroughFacade)
        // Preflight requests need a route for the CORS middleware to answer on.
        facade.on("openapi.json", method: .options) { _, _ in Response(status: .noContent) }
        facade.on("tools/{tool}", method: .options) { _, _ in Response(status: .noContent) }
    }

    // MARK: - MCP

    @Sendable func mcp(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        if case .denied(let message) = auth.check(request.headers[.authorization]) {
            return try Self.unauthorized(message, jsonRPC: true)
        }
        let mcpRequest = identify(try await MCPHTTPBridge.mcpRequest(from: request, maxBodyBytes: endpoint.maxBodyBytes), context: context)
        if request.method == .post, let body = mcpRequest.body, ModernMCP.isModern(headers: mcpRequest.headers, body: body) {
            let check = HTTPValidationContext(httpMethod: "POST", sessionID: nil, isInitializationRequest: false, supportedProtocolVersions: [])
            if let rejected = originValidator.validate(mcpRequest, context: check) {
                return MCPHTTPBridge.response(from: rejected, keepAlive: endpoint.keepAliveInterval)
            }
            // 2026-07-28 has no notifications/cancelled from the client: closing the request is
            // the cancellation, and the shard then gets its own notifications/cancelled.
            let reply = try await ClientDisconnect.cancelling(on: context.disconnect) {
                await modern.handle(headers: mcpRequest.headers, body: body)
            }
            if let stream = reply.stream {
                return Self.eventStream(stream, keepAlive: reply.longLived ? endpoint.keepAliveInterval : nil, disconnect: context.disconnect)
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(
                status: .init(code: reply.status), headers: headers,
                body: reply.body.map { .init(byteBuffer: ByteBuffer(bytes: $0)) } ?? .init())
        }
        return MCPHTTPBridge.response(
            from: await sessions.handle(mcpRequest), keepAlive: request.method == .get ? endpoint.keepAliveInterval : nil)
    }

    /// A `tools/call` that passes every check `mcp` makes (auth, origin and host, the era's
    /// validation: `ModernMCP.validate`, or the session registry's for a session) and whose tool's
    /// shard has an open plain-http session: the fast lane (`FastToolCalls`) sends it from the
    /// event loop. Nil for anything else, which then takes `mcp` and gets its answer or its error
    /// there.
    func fastCall(head: HTTPRequest, body: ByteBuffer, remoteAddress: SocketAddress?) -> FastToolCall? {
        guard case .allowed = auth.check(head.headerFields[.authorization]) else { return nil }
        let data = Data(body.readableBytesView)
        let request = identify(MCP.HTTPRequest(method: "POST", headers: head.headerFields.plain, body: data, path: head.path), remoteAddress: remoteAddress)
        let era: FastToolCall.Era
        let idJSON: Data
        let call: ModernMCP.ToolCall
        if let sessionID = request.header(HTTPHeaderName.sessionID), !ModernMCP.isModern(headers: request.headers, body: nil) {
            // A session's call, as `SessionShortcuts` takes it: no progress token, and no other
            // `_meta` either (that one decodes it for the shard; the lane leaves such calls to it).
            guard sessions.admitsOutside(request, sessionID: sessionID),
                  case .object(let object)? = try? JSONValue.parse(data),
                  object["method"]?.stringValue == "tools/call", let id = object["id"], id.isRequestID,
                  let params = object["params"]?.objectValue, params["_meta"] == nil,
                  let parsed = try? ModernMCP.ToolCall(params, body: data) else { return nil }
            era = .session(id: sessionID, registry: sessions, requestID: id)
            idJSON = RawJSON.member("id", in: data) ?? ModernMCP.encodeID(id)
            call = parsed
        } else {
            let check = HTTPValidationContext(httpMethod: "POST", sessionID: nil, isInitializationRequest: false, supportedProtocolVersions: [])
            guard originValidator.validate(request, context: check) == nil,
                  case .request(let validated) = ModernMCP.validate(headers: request.headers, body: data),
                  validated.method == "tools/call", validated.meta["progressToken"] == nil,
                  let parsed = try? ModernMCP.ToolCall(validated.params, body: data) else { return nil }
            era = .stateless(modern)
            idJSON = validated.idJSON
            call = parsed
        }
        guard let route = catalog.fastRoute(call.name, profile: profile.name) else { return nil }
        let id = FastToolCall.nextID()
        guard let shardRequest = try? ShardToolResult.request(id: id, encodedTool: route.route.encodedName, arguments: call.arguments, meta: nil) else { return nil }
        CallerIdentity.log(request, tool: call.name, logger: modern.logger)
        return FastToolCall(
            id: id, idJSON: idJSON, name: call.name, tool: route.route.originalName, connection: route.connection, transport: route.transport,
            message: ByteBuffer(bytes: shardRequest), arguments: call.arguments, profile: profile.name, catalog: catalog, era: era)
    }

    /// Replaces any client-sent caller header with the identity Open WebUI forwards, when the
    /// request comes from a trusted network.
    func identify(_ request: MCP.HTTPRequest, context: GatewayRequestContext) -> MCP.HTTPRequest {
        identify(request, remoteAddress: context.remoteAddress)
    }

    func identify(_ request: MCP.HTTPRequest, remoteAddress: SocketAddress?) -> MCP.HTTPRequest {
        var headers = request.headers.filter { $0.key.lowercased() != CallerIdentity.header.lowercased() }
        if trustedNetworks.contains(remoteAddress) {
            let parts = ["X-OpenWebUI-User-Name", "X-OpenWebUI-User-Email", "X-OpenWebUI-User-Id"].compactMap { request.header($0) }
            if !parts.isEmpty { headers[CallerIdentity.header] = parts.joined(separator: " / ") }
        }
        return MCP.HTTPRequest(method: request.method, headers: headers, body: request.body, path: request.path)
    }

    // MARK: - OpenAPI facade

    @Sendable func openAPIDocument(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        if case .denied(let message) = auth.check(request.headers[.authorization]) {
            return try Self.unauthorized(message, jsonRPC: false)
        }
        let document = OpenAPIFacade.document(for: catalog.snapshot(for: profile.name), profile: profile)
        return Self.json(try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    @Sendable func callThroughFacade(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        if case .denied(let message) = auth.check(request.headers[.authorization]) {
            return try Self.unauthorized(message, jsonRPC: false)
        }
        let tool = try context.parameters.require("tool")
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: endpoint.maxBodyBytes)
        } catch {
            return try Self.detail(.contentTooLarge, "The body is larger than \(endpoint.maxBodyBytes) bytes.")
        }
        let arguments: Data
        if buffer.readableBytes == 0 {
            arguments = Data("{}".utf8)
        } else if let object = ShardToolResult.argumentsObject(Data(buffer.readableBytesView)) {
            arguments = object
        } else {
            return try Self.detail(.badRequest, "The body must be a JSON object of the tool's arguments.")
        }
        CallerIdentity.log(identify(MCP.HTTPRequest(method: "POST", headers: request.headers.plain), context: context), tool: tool, logger: context.logger)
        do {
            let result = try await catalog.call(tool, arguments: arguments, meta: nil, profile: profile.name).decoded()
            if result.isError == true {
                return try Self.detail(.unprocessableContent, result.textContent.isEmpty ? "The tool reported an error." : result.textContent)
            }
            return Self.json(try OpenAPIFacade.body(for: result))
        } catch let error as MCPError {
            let status: HTTPResponse.Status = switch error.code {
            case -32602: catalog.snapshot(for: profile.name).routes[tool] == nil ? .notFound : .unprocessableContent
            case -32001: .gatewayTimeout
            default: .badGateway
            }
            return try Self.detail(status, error.errorDescription ?? "\(error)")
        }
    }

    // MARK: - Responses

    /// Serves a modern-era request as an SSE stream: its notifications, then the response; with
    /// `keepAlive`, a comment line whenever it has been quiet that long. The work is cancelled as
    /// soon as the client goes away (not only at the next write).
    static func eventStream(
        _ run: @escaping @Sendable (_ emit: @escaping @Sendable (Data) -> Void) async -> Data,
        keepAlive: Duration?, disconnect: ClientDisconnect?
    ) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: MCPHTTPBridge.sseBody(keepAlive: keepAlive, disconnect: disconnect) { yield in
            let final = await run { yield(Self.sseMessage($0)) }
            yield(Self.sseMessage(final))
        })
    }

    static func sseMessage(_ message: Data) -> ByteBuffer {
        var buffer = ByteBuffer(string: "event: message\ndata: ")
        buffer.writeBytes(message)
        buffer.writeString("\n\n")
        return buffer
    }

    static func json(_ data: Data, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func detail(_ status: HTTPResponse.Status, _ message: String) throws -> Response {
        json(try JSONSerialization.data(withJSONObject: ["detail": message]), status: status)
    }

    static func unauthorized(_ message: String, jsonRPC: Bool) throws -> Response {
        let body: [String: Any] = jsonRPC
            ? ["jsonrpc": "2.0", "id": NSNull(), "error": ["code": -32001, "message": "Unauthorized: " + message]]
            : ["detail": message]
        var response = json(try JSONSerialization.data(withJSONObject: body), status: .unauthorized)
        // A plain Bearer challenge: no resource_metadata, so clients do not start an OAuth flow.
        response.headers[.wwwAuthenticate] = "Bearer realm=\"homelab-mcp-gateway\""
        return response
    }
}

extension HTTPFields {
    /// Header name → value, the shape the MCP SDK's request type uses.
    var plain: [String: String] {
        var headers: [String: String] = [:]
        for field in self { headers[field.name.canonicalName] = field.value }
        return headers
    }
}
