import Foundation
import Logging
import MCP
import Metrics
import NIOCore
import ServiceKit
import Synchronization

/// One `tools/call` on the fast lane: what goes to the shard, and how its answer (or its failure)
/// becomes the client's reply, the same reply the normal path gives (`ModernMCP.handle` for the
/// stateless era, `MCPSessionRegistry` with `SessionShortcuts` for a session).
struct FastToolCall: PipelineCall, Sendable {
    /// Which era's reply the client gets.
    enum Era: Sendable {
        case stateless(ModernMCP)
        /// A call of an open session; `requestID` is the client's, for `notifications/cancelled`.
        case session(id: String, registry: MCPSessionRegistry, requestID: JSONValue)
    }

    /// The id of the request to the shard (`gw-f…`, apart from the sessions' `gw-…`).
    let id: String
    /// The client's request id as it wrote it.
    let idJSON: Data
    /// The aggregated name the client called, and the shard's own name of the tool.
    let name: String
    let tool: String
    let connection: ShardConnection
    let transport: StreamableHTTPClientTransport
    /// The JSON-RPC request to the shard.
    let message: ByteBuffer
    /// The client's arguments, for the normal path when the shard forgot the session.
    let arguments: Data?
    let profile: String
    let catalog: Catalog
    let era: Era
    let started = ContinuousClock.now

    private static let counter = Atomic<Int>(0)

    static func nextID() -> String {
        "gw-f\(counter.add(1, ordering: .relaxed).newValue)"
    }

    var shard: String { connection.endpoint.name }

    /// Sends the call to the shard from `eventLoop`; nil when its session closed meanwhile. A
    /// session's call can be cancelled by the client's `notifications/cancelled` from then on.
    func start(on eventLoop: any EventLoop) -> PipelineStart {
        guard let pending = transport.post(message, on: eventLoop, timeout: catalog.toolCallTimeout) else { return .settled(normalPath()) }
        Catalog.fastLaneCalls.for(shard).increment()
        if case .session(let session, let registry, let requestID) = era,
           let token = registry.track(sessionID: session, requestID: requestID, cancel: { pending.cancel() }) {
            pending.response.whenComplete { _ in registry.finished(sessionID: session, requestID: requestID, token: token) }
        }
        return .sent(pending)
    }

    /// For a call that could not go on the lane after all (its shard session closed, or the shard
    /// forgot it): the catalog's call, which connects again first. Nothing ran on the shard yet.
    func normalPath() -> PipelineOutcome {
        .later(cancelOnHangUp: false) { [self] in
            do {
                return success(try await catalog.call(name, arguments: arguments, meta: nil, profile: profile))
            } catch {
                return failure(error)
            }
        }
    }

    /// The client's reply to the shard's answer, or to the way the exchange failed; metrics and
    /// the shard's `notifications/cancelled` as the normal path (`Catalog.call`) has them.
    func outcome(_ result: Result<HTTP1CollectedResponse, any Error>) -> PipelineOutcome {
        do {
            let (response, others) = try transport.response(in: result.get(), to: id)
            if !others.isEmpty {
                // Server notifications on the way (log messages): the SDK client's, as always.
                Task { [transport] in for message in others { await transport.deliverToClient(message) } }
            }
            let result = try ShardToolResult(response)
            Catalog.recordCall(shard: shard, tool: tool, outcome: result.isError ? "tool_error" : "ok", started: started)
            return .reply(success(result))
        } catch let error as MCPError {
            // The shard's own JSON-RPC error passes through.
            Catalog.recordCall(shard: shard, tool: tool, outcome: "error", started: started)
            return .reply(failure(error))
        } catch MCPClientTransportError.sessionExpired {
            return normalPath()
        } catch HTTP1ClientError.timeout {
            return .later(cancelOnHangUp: false) { [self] in
                await connection.sendCancelled(id, reason: "gateway timeout")
                Catalog.recordCall(shard: shard, tool: tool, outcome: "timeout", started: started)
                return failure(GatewayError.timedOut(tool, after: catalog.toolCallTimeout))
            }
        } catch is CancellationError {
            return .later(cancelOnHangUp: false) { [self] in
                await connection.sendCancelled(id, reason: "client cancelled")
                Catalog.recordCall(shard: shard, tool: tool, outcome: "cancelled", started: started)
                // A stateless client cancels by hanging up; a session's request is still open
                // after its notifications/cancelled and gets the error the registry gives.
                if case .session = era { return failure(CancellationError()) }
                return nil
            }
        } catch {
            Catalog.recordCall(shard: shard, tool: tool, outcome: "error", started: started)
            return .reply(failure(catalog.shardFailed(connection, error)))
        }
    }

    private func success(_ result: ShardToolResult) -> PipelineReply {
        switch era {
        case .stateless:
            PipelineReply(ModernMCP.reply(idJSON: idJSON, encodedResult: result.json))
        case .session(let session, _, _):
            PipelineReply(MCPSessionRegistry.reply(idJSON: idJSON, .success(result.json), sessionID: session))
        }
    }

    private func failure(_ error: any Error) -> PipelineReply {
        switch era {
        case .stateless:
            PipelineReply(ModernMCP.errorReply(id: try? JSONValue.parse(idJSON), method: "tools/call", error))
        case .session(let session, _, _):
            PipelineReply(MCPSessionRegistry.reply(idJSON: idJSON, .failure(error), sessionID: session))
        }
    }
}

extension PipelineReply {
    init(_ reply: ModernMCP.Reply) {
        self.init(status: reply.status, headers: [("Content-Type", "application/json")], body: ByteBuffer(bytes: reply.body ?? Data()))
    }

    init(_ response: MCP.HTTPResponse) {
        self.init(status: response.statusCode, headers: response.headers.map { ($0.key, $0.value) }, body: ByteBuffer(bytes: response.bodyData ?? Data()))
    }
}
