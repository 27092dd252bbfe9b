import Foundation
import HTTPTypes
import Hummingbird
import MCP
import NIOCore
import ServiceLifecycle

/// Converts between Hummingbird and the MCP SDK's framework-neutral HTTP types, and streams SSE
/// responses with keep-alive comments that stop on client disconnect and graceful shutdown.
public enum MCPHTTPBridge {
    public static func mcpRequest(from request: Request, maxBodyBytes: Int) async throws -> MCP.HTTPRequest {
        var headers: [String: String] = [:]
        for field in request.headers {
            headers[field.name.canonicalName] = field.value
        }
        var body: Data?
        if request.method == .post {
            let buffer = try await request.collectBody(upTo: maxBodyBytes)
            body = Data(buffer.readableBytesView)
        }
        return MCP.HTTPRequest(method: request.method.rawValue, headers: headers, body: body, path: request.uri.path)
    }

    /// `keepAlive` is for long-lived GET streams; a POST's stream ends with its response, so it
    /// is written straight through without the extra heartbeat tasks (the gateway's hot path).
    public static func response(from mcpResponse: MCP.HTTPResponse, keepAlive: Duration?) -> Response {
        var fields = HTTPFields()
        for (name, value) in mcpResponse.headers {
            if let fieldName = HTTPField.Name(name) { fields[fieldName] = value }
        }
        let status = HTTPResponse.Status(code: mcpResponse.statusCode)
        switch mcpResponse {
        case .stream(let events, _):
            fields[.contentType] = "text/event-stream"
            if let keepAlive {
                return Response(status: status, headers: fields, body: sseBody(events, keepAlive: keepAlive))
            }
            return Response(status: status, headers: fields, body: ResponseBody { writer in
                do {
                    for try await chunk in events.cancelOnGracefulShutdown() {
                        try await writer.write(ByteBuffer(bytes: chunk))
                    }
                } catch is CancellationError {}
                try await writer.finish(nil)
            })
        default:
            if let data = mcpResponse.bodyData {
                if fields[.contentType] == nil { fields[.contentType] = "application/json" }
                return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
            }
            return Response(status: status, headers: fields)
        }
    }

    /// Writes SSE chunks as they come; while nothing comes for `keepAlive`, writes a comment line.
    static func sseBody(_ events: AsyncThrowingStream<Data, any Error>, keepAlive: Duration) -> ResponseBody {
        sseBody(keepAlive: keepAlive) { yield in
            do {
                for try await chunk in events.cancelOnGracefulShutdown() { yield(ByteBuffer(bytes: chunk)) }
            } catch {}
        }
    }

    /// An SSE response body of what `produce` yields, written as it comes, with a comment line
    /// whenever nothing came for `keepAlive` (none if nil); the body ends when `produce` returns.
    /// With a `disconnect` watcher, a client that goes away stops the writing and `produce`.
    public static func sseBody(
        keepAlive: Duration?, disconnect: ClientDisconnect? = nil,
        produce: @escaping @Sendable (_ yield: @escaping @Sendable (ByteBuffer) -> Void) async -> Void
    ) -> ResponseBody {
        ResponseBody { writer in
            let (chunks, continuation) = AsyncStream<ByteBuffer>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    await produce { continuation.yield($0) }
                    continuation.finish()
                }
                if let keepAlive {
                    group.addTask {
                        while !Task.isCancelled {
                            try await cancellableSleep(for: keepAlive)
                            continuation.yield(ByteBuffer(string: ": keep-alive\n\n"))
                        }
                    }
                }
                try await ClientDisconnect.cancelling(on: disconnect) {
                    for await chunk in chunks { try await writer.write(chunk) }
                }
                group.cancelAll()
            }
            try await writer.finish(nil)
        }
    }
}

extension Router {
    /// Serves an MCP Streamable HTTP endpoint at `path` (POST, GET, DELETE) from `sessions`.
    public func addMCPEndpoint(_ path: RouterPath, sessions: MCPSessionRegistry, settings: MCPEndpointSettings) {
        let handler: @Sendable (Request, Context) async throws -> Response = { request, _ in
            let mcpRequest = try await MCPHTTPBridge.mcpRequest(from: request, maxBodyBytes: settings.maxBodyBytes)
            let mcpResponse = await sessions.handle(mcpRequest)
            return MCPHTTPBridge.response(from: mcpResponse, keepAlive: request.method == .get ? settings.keepAliveInterval : nil)
        }
        post(path, use: handler)
        get(path, use: handler)
        delete(path, use: handler)
        // Other methods get the registry's 405 with `Allow`, not the router's empty 404.
        put(path, use: handler)
        patch(path, use: handler)
    }
}
