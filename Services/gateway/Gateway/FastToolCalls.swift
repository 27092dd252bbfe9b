import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import ServiceKit

/// The fast lane for stateless-era (2026-07-28) `tools/call`s, what Open WebUI 0.12 sends: a
/// channel handler in each connection's pipeline, after Hummingbird's HTTP codec, answers such a
/// call on the connection's event loop and posts it to the shard with `HTTP1Client`'s event-loop
/// API: no Swift task, no hop onto the shard's actor.
///
/// Why: at concurrency 1 a call's latency is its CPU time, and most of the gateway's was the hand-
/// offs between Hummingbird's request task, the client's event loop and back (docs/BENCHMARKS.md:
/// a forwarder in the pipeline spends about half the CPU per call of the same forwarder as a
/// Hummingbird route). Only the plain success path runs here: a request that is anything else
/// (another method, a progress token, a bad header, a denied token, an unknown tool, a shard that
/// is down or behind https, a body over the limit) goes on to Hummingbird's router unchanged and
/// is answered by `ProfileEndpoints.mcp`, the one place that knows every answer. Calls whose
/// answer needs async work (a timeout, the shard forgot the session) finish in a task.
struct FastToolCalls: Sendable {
    /// The MCP endpoints by path (`/mcp`, `/v/<profile>/mcp`).
    let endpoints: [String: ProfileEndpoints]
    let maxBodyBytes: Int

    /// Headers whose presence sends a request the normal way: `Expect` needs the server's
    /// continue handling, a session id belongs to the other era.
    private static let declined: [HTTPField.Name] = [.expect, HTTPField.Name("Mcp-Session-Id")!]
    private static let protocolVersion = HTTPField.Name("MCP-Protocol-Version")!
    private static let method = HTTPField.Name("Mcp-Method")!

    /// The endpoint a request is for when its head says it may be a fast call.
    func endpoint(for head: HTTPRequest) -> ProfileEndpoints? {
        guard head.method == .post, let path = head.path, let endpoint = endpoints[path],
              let version = head.headerFields[Self.protocolVersion], ModernMCP.versions.contains(version),
              head.headerFields[Self.method] == "tools/call",
              !Self.declined.contains(where: { head.headerFields[$0] != nil }),
              Self.closesAfterReply(head) != nil else { return nil }
        if let length = head.headerFields[.contentLength].flatMap(Int.init), length > maxBodyBytes { return nil }
        return endpoint
    }

    /// Whether the connection closes after the reply (`Connection: close`); nil for `Connection`
    /// values the lane leaves to Hummingbird (upgrades and the like).
    static func closesAfterReply(_ head: HTTPRequest) -> Bool? {
        switch head.headerFields[.connection]?.lowercased() {
        case nil, "keep-alive": false
        case "close": true
        default: nil
        }
    }

    /// The gateway's HTTP/1 server: `ClientDisconnect` and this lane in every connection.
    var server: HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [ClientDisconnect(), FastToolCallHandler(lane: self)]))
    }
}
