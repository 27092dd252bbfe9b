import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import ServiceKit

/// The fast lane for `tools/call`: a channel handler in each connection's pipeline, after
/// Hummingbird's HTTP codec, answers a call on the connection's event loop and posts it to the
/// shard with `HTTP1Client`'s event-loop API: no Swift task, no hop onto an actor. Both eras take
/// it: stateless (2026-07-28, what Open WebUI 0.12 sends) and a session's (2025-11-25, Claude Code,
/// n8n), checked as `MCPSessionRegistry` checks it and cancellable by the client's
/// `notifications/cancelled` like the registry's own shortcut calls.
///
/// Why: at concurrency 1 a call's latency is its CPU time, and most of the gateway's was the hand-
/// offs between Hummingbird's request task, the client's event loop and back (docs/BENCHMARKS.md:
/// a forwarder in the pipeline spends about half the CPU per call of the same forwarder as a
/// Hummingbird route). Only the plain success path runs here: a request that is anything else
/// (another method, a progress token or other `_meta` in a session, a bad header, a denied token,
/// an unknown tool or session, a shard that is down or behind https, a body over the limit) goes on
/// to Hummingbird's router unchanged and is answered by `ProfileEndpoints.mcp`, the one place that
/// knows every answer. Calls whose answer needs async work (a timeout, the shard forgot the
/// session) finish in a task.
struct FastToolCalls: PipelineLane {
    /// The MCP endpoints by path (`/mcp`, `/v/<profile>/mcp`).
    let endpoints: [String: ProfileEndpoints]
    let maxBodyBytes: Int

    private static let protocolVersion = HTTPField.Name("MCP-Protocol-Version")!
    private static let method = HTTPField.Name("Mcp-Method")!
    private static let sessionID = HTTPField.Name("Mcp-Session-Id")!

    /// The endpoint a request is for when its head says it may be a fast call: a stateless-era
    /// `tools/call` by its headers, or any POST of a session (2025-11-25 clients send no
    /// `Mcp-Method`; the body decides, see `mayBeToolCall`).
    func target(for head: HTTPRequest) -> ProfileEndpoints? {
        guard head.method == .post, let path = head.path, let endpoint = endpoints[path] else { return nil }
        // A modern version header makes a request stateless even with a session id (as `mcp` sees it).
        let modern = head.headerFields[Self.protocolVersion].map { ModernMCP.versions.contains($0) } ?? false
        if !modern, head.headerFields[Self.sessionID] != nil {
            return (head.headerFields[Self.method] ?? "tools/call") == "tools/call" ? endpoint : nil
        }
        return modern && head.headerFields[Self.method] == "tools/call" ? endpoint : nil
    }

    func call(head: HTTPRequest, body: ByteBuffer, target endpoint: ProfileEndpoints, remoteAddress: SocketAddress?) -> FastToolCall? {
        guard Self.mayBeToolCall(body) else { return nil }
        return endpoint.fastCall(head: head, body: body, remoteAddress: remoteAddress)
    }

    /// Whether a body can be a `tools/call` at all: a byte search that spares the session era's
    /// other requests (notifications, `tools/list`) a JSON parse here before the normal path's.
    static func mayBeToolCall(_ body: ByteBuffer) -> Bool {
        ByteSearch.contains(toolsCall, in: body)
    }

    private static let toolsCall = Array("tools/call".utf8)

    /// The gateway's HTTP/1 server: `ClientDisconnect` and this lane in every connection.
    var server: HTTPServerBuilder {
        .suiteHTTP1([ClientDisconnect(), PipelineLaneHandler(lane: self)])
    }
}
