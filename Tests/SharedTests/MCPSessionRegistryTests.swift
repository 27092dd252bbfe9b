import Foundation
import Logging
import MCP
import ServiceKit
import Testing

/// The session registry's two ways past the SDK transport (its own shortcuts, and
/// `admitsOutside` for the gateway's lane) check a session's POST as the transport does: each
/// header a validator reads, sent wrong, is refused by both.
@Suite struct MCPSessionRegistryTests {
    static let listBody = Data(#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}"#.utf8)

    static func registry() -> MCPSessionRegistry {
        MCPSessionRegistry(
            settings: MCPEndpointSettings(allowedHosts: ["mcp.lan"]), logger: Logger(label: "test"),
            shortcut: { method, _, _, _ in method == "tools/list" ? .result(Data(#"{"tools":[]}"#.utf8)) : nil }
        ) { _, _ in
            Server(name: "test", version: "1", capabilities: .init(tools: .init()))
        }
    }

    static func headers(session: String?) -> [String: String] {
        var headers = [
            "Host": "mcp.lan:9100", "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-11-25",
        ]
        if let session { headers["Mcp-Session-Id"] = session }
        return headers
    }

    static func openSession(_ registry: MCPSessionRegistry) async throws -> String {
        let initialize = Data(
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#.utf8)
        let response = await registry.handle(MCP.HTTPRequest(method: "POST", headers: headers(session: nil), body: initialize, path: "/mcp"))
        return try #require(response.headers.first { $0.key.lowercased() == "mcp-session-id" }?.value)
    }

    @Test func aGoodSessionPostPassesBothWays() async throws {
        let registry = Self.registry()
        let session = try await Self.openSession(registry)
        let request = MCP.HTTPRequest(method: "POST", headers: Self.headers(session: session), body: Self.listBody, path: "/mcp")
        #expect(registry.admitsOutside(request, sessionID: session))
        let response = await registry.handle(request)
        #expect(response.statusCode == 200)
        #expect(String(decoding: response.bodyData ?? Data(), as: UTF8.self) == #"{"jsonrpc":"2.0","id":2,"result":{"tools":[]}}"#)
    }

    @Test(arguments: [
        ("Host", "evil.example", 421),
        ("Origin", "http://evil.example", 403),
        ("Content-Type", "text/plain", 415),
        ("MCP-Protocol-Version", "1999-01-01", 400),
    ])
    func aWrongHeaderIsRefusedBothWays(header: String, value: String, status: Int) async throws {
        let registry = Self.registry()
        let session = try await Self.openSession(registry)
        var headers = Self.headers(session: session)
        headers[header] = value
        let request = MCP.HTTPRequest(method: "POST", headers: headers, body: Self.listBody, path: "/mcp")
        #expect(!registry.admitsOutside(request, sessionID: session))
        #expect(await registry.handle(request).statusCode == status)
    }

    @Test func anUnknownSessionIsRefusedBothWays() async throws {
        let registry = Self.registry()
        _ = try await Self.openSession(registry)
        let request = MCP.HTTPRequest(method: "POST", headers: Self.headers(session: "0123456789abcdef"), body: Self.listBody, path: "/mcp")
        #expect(!registry.admitsOutside(request, sessionID: "0123456789abcdef"))
        #expect(await registry.handle(request).statusCode == 404)
    }

    /// An id MCP does not allow gets a 400 at once; the SDK would drop the request (an id of
    /// `true`) or take it for a notification (202), and the client would wait forever.
    @Test(arguments: ["true", "false", "null", "1.5", "{}", "[1]", "1e30"])
    func aRequestWithAnIDThatIsNotAStringOrAnIntegerIsA400(id: String) async throws {
        let registry = Self.registry()
        let session = try await Self.openSession(registry)
        for method in ["ping", "tools/list"] {
            let body = Data(#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)"}"#.utf8)
            let response = await registry.handle(MCP.HTTPRequest(method: "POST", headers: Self.headers(session: session), body: body, path: "/mcp"))
            #expect(response.statusCode == 400, "\(method) with id \(id)")
            #expect(String(decoding: response.bodyData ?? Data(), as: UTF8.self).contains("id must be a string or an integer"))
        }
        let ping = Data(#"{"jsonrpc":"2.0","id":"p-1","method":"ping"}"#.utf8)
        #expect(await registry.handle(MCP.HTTPRequest(method: "POST", headers: Self.headers(session: session), body: ping, path: "/mcp")).statusCode == 200)
    }
}
