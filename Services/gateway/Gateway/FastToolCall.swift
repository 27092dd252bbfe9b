import Foundation
import Logging
import MCP
import Metrics
import NIOCore
import ServiceKit
import Synchronization

/// One stateless-era `tools/call` on the fast lane: what goes to the shard, and how its answer
/// (or its failure) becomes the client's reply, the same reply `ModernMCP.handle` would give.
struct FastToolCall: Sendable {
    /// The id of the request to the shard (`gw-f…`, apart from the sessions' `gw-…`).
    let id: String
    /// The client's request id as it wrote it.
    let idJSON: Data
    /// The shard's own name of the tool.
    let tool: String
    let connection: ShardConnection
    let transport: StreamableHTTPClientTransport
    /// The JSON-RPC request to the shard.
    let message: ByteBuffer
    /// The client's request, for the normal path when the shard forgot the session.
    let headers: [String: String]
    let body: Data
    let modern: ModernMCP
    let started = ContinuousClock.now

    private static let counter = Atomic<Int>(0)

    static func nextID() -> String {
        "gw-f\(counter.add(1, ordering: .relaxed).newValue)"
    }

    var shard: String { connection.endpoint.name }

    /// What the client gets: a reply now, or one that needs async work first (nil: no reply, the
    /// client has gone).
    enum Outcome {
        case reply(ModernMCP.Reply)
        case later(@Sendable () async -> ModernMCP.Reply?)
    }

    /// Sends the call to the shard from `eventLoop`; nil when its session closed meanwhile.
    func send(on eventLoop: any EventLoop) -> HTTP1PendingResponse? {
        let pending = transport.post(message, on: eventLoop, timeout: modern.catalog.toolCallTimeout)
        if pending != nil { Counter(label: "gateway_fast_lane_calls_total", dimensions: [("shard", shard)]).increment() }
        return pending
    }

    /// For a call that could not be sent: the normal path (which reconnects) answers it.
    func normalPath() -> Outcome {
        .later { [modern, headers, body] in await modern.handle(headers: headers, body: body) }
    }

    /// The client's reply to the shard's answer, or to the way the exchange failed; metrics and
    /// the shard's `notifications/cancelled` as the normal path (`Catalog.call`) has them.
    func outcome(_ result: Result<HTTP1CollectedResponse, any Error>) -> Outcome {
        do {
            let (response, others) = try transport.response(in: result.get(), to: id)
            if !others.isEmpty {
                // Server notifications on the way (log messages): the SDK client's, as always.
                Task { [transport] in for message in others { await transport.deliverToClient(message) } }
            }
            let result = try ShardToolResult(response)
            Catalog.recordCall(shard: shard, tool: tool, outcome: result.isError ? "tool_error" : "ok", started: started)
            return .reply(ModernMCP.reply(idJSON: idJSON, encodedResult: result.json))
        } catch let error as MCPError {
            // The shard's own JSON-RPC error passes through.
            Catalog.recordCall(shard: shard, tool: tool, outcome: "error", started: started)
            return .reply(failure(error))
        } catch MCPClientTransportError.sessionExpired {
            // The shard restarted and forgot the session: nothing ran, so the normal path may
            // call again (it initializes a new session first).
            return normalPath()
        } catch HTTP1ClientError.timeout {
            return .later { [self] in
                await connection.sendCancelled(id, reason: "gateway timeout")
                Catalog.recordCall(shard: shard, tool: tool, outcome: "timeout", started: started)
                return failure(GatewayError.timedOut(tool, after: modern.catalog.toolCallTimeout))
            }
        } catch is CancellationError {
            return .later { [self] in
                await connection.sendCancelled(id, reason: "client cancelled")
                Catalog.recordCall(shard: shard, tool: tool, outcome: "cancelled", started: started)
                return nil
            }
        } catch {
            Catalog.recordCall(shard: shard, tool: tool, outcome: "error", started: started)
            return .reply(failure(modern.catalog.shardFailed(connection, error)))
        }
    }

    private func failure(_ error: any Error) -> ModernMCP.Reply {
        ModernMCP.errorReply(id: try? JSONSerialization.jsonObject(with: idJSON, options: .fragmentsAllowed), method: "tools/call", error)
    }
}
