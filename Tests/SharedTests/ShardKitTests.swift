import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MCP
import MCPShared
import NIOCore
import NIOHTTP1
import ServiceKit
import ShardKit
import Testing
import TestSupport

/// The shard kit served over real HTTP, driven by our own client transport and the SDK `Client`.
@Suite struct ShardKitTests {
    static let definition = ShardDefinition(
        name: "demo", version: "1.0.0", description: "demo shard",
        tools: [
            ShardTool(
                name: "shout", description: "Upper-cases text.",
                inputSchema: JSONSchema.object(["text": JSONSchema.string("Text.")], required: ["text"]),
                annotations: .init(readOnlyHint: true)
            ) { .text(try $0.requiredString("text").uppercased()) },
            ShardTool(
                name: "explode", description: "Throws.", inputSchema: JSONSchema.object([:]),
                annotations: .init(readOnlyHint: true)
            ) { _ in throw CancellationErrorLike() },
            ShardTool(
                name: "wait", description: "Waits until cancelled.", inputSchema: JSONSchema.object([:]),
                annotations: .init(readOnlyHint: true)
            ) { _ in
                try await Task.sleep(for: .seconds(30))
                return .text("waited")
            },
        ])

    struct CancellationErrorLike: Error, CustomStringConvertible { var description: String { "boom" } }

    /// The demo shard on a free loopback port (`.live` binds port 0 and reports it as `client.port`).
    static func app() -> some ApplicationProtocol {
        ShardApplication.build(
            definition: definition, settings: ShardSettings(listen: .init(host: "127.0.0.1", port: 0)), logger: Logger(label: "test"))
    }

    /// A whole number out of `Int`'s range is the model's input error, not a trap that takes
    /// the shard down (`warn_days: 1e30` once did).
    @Test func wholeNumbersOutOfRangeAreInputErrors() throws {
        let arguments = ToolArguments(["big": .double(1e30), "inf": .double(.infinity), "half": .double(2.5), "five": .double(5), "six": .int(6)])
        for name in ["big", "inf", "half"] {
            #expect { try arguments.int(name) } throws: { ($0 as? ToolInputError)?.message.contains("'\(name)' must be a whole number") == true }
        }
        #expect(try arguments.int("five") == 5 && arguments.int("six") == 6 && arguments.int("absent") == nil)
        #expect(try arguments.int("five", in: 1...5) == 5)
        #expect { try arguments.int("six", in: 1...5) } throws: { "\($0)" == "'six' must be a whole number from 1 to 5" }
    }

    @Test func servesToolsManifestAndHealthOverHTTP() async throws {
        try await Self.app().test(.live) { client in
            let port = try #require(client.port)
            let manifest = try await client.execute(uri: "/manifest", method: .get) { response in
                try JSONDecoder().decode(ShardManifest.self, from: Data(response.body.readableBytesView))
            }
            #expect(manifest.name == "demo" && manifest.tools.map(\.name) == ["shout", "explode", "wait"])
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }

            // Plain http goes through HTTP1Client; without it (as for https) through AsyncHTTPClient.
            for plainHTTPClient in [HTTP1Client.shared, nil] {
                let transport = StreamableHTTPClientTransport(
                    endpoint: "http://127.0.0.1:\(port)/mcp", httpClient: .shared, plainHTTPClient: plainHTTPClient)
                #expect(transport.enforcesExchangeTimeout == (plainHTTPClient != nil))
                let mcp = Client(name: "test", version: "1")
                try await mcp.connect(transport: transport)
                #expect(await transport.currentSessionID != nil)
                let tools = try await mcp.listTools()
                #expect(tools.tools.count == 3)
                let shout = try await mcp.callTool(name: "shout", arguments: ["text": "hi"])
                #expect(shout.content == [.text(text: "HI", annotations: nil, _meta: nil)])
                let missing = try await mcp.callTool(name: "shout", arguments: [:])
                #expect(missing.isError == true)
                let thrown = try await mcp.callTool(name: "explode", arguments: [:])
                #expect(thrown.isError == true)
                await #expect(throws: MCPError.self) { _ = try await mcp.callTool(name: "nope", arguments: [:]) }
                await mcp.disconnect()
            }
        }
    }

    /// A session's tools/call is answered by the shard kit's shortcut (plain JSON, although the
    /// client accepts an event stream, which is what the SDK server answers with), with the SDK
    /// server's errors; params the shortcut cannot read still reach the SDK server.
    @Test func answersSessionToolCallsWithoutTheSDKServer() async throws {
        try await Self.app().test(.live) { client in
            // AsyncHTTPClient, not the test client: that has one connection, and the cancellation
            // below is sent while a call is open.
            let url = "http://127.0.0.1:\(try #require(client.port))/mcp"
            func post(_ body: String, session: String?) async throws -> (contentType: String?, session: String?, body: String) {
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.headers.add(name: "Accept", value: "application/json, text/event-stream")
                if let session {
                    request.headers.add(name: "Mcp-Session-Id", value: session)
                    request.headers.add(name: "MCP-Protocol-Version", value: "2025-11-25")
                }
                request.body = .bytes(ByteBuffer(string: body))
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                return (response.headers.first(name: "Content-Type"), response.headers.first(name: "Mcp-Session-Id"), text)
            }
            func object(_ text: String) throws -> [String: Any] {
                try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            }
            let opened = try await post(
                #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
                session: nil)
            let session = try #require(opened.session)
            _ = try await post(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, session: session)

            let shout = try await post(#"{"jsonrpc":"2.0","id":"a-7","method":"tools/call","params":{"name":"shout","arguments":{"text":"hi"}}}"#, session: session)
            #expect(shout.contentType == "application/json")
            let shoutReply = try object(shout.body)
            #expect(shoutReply["id"] as? String == "a-7")
            let content = (shoutReply["result"] as? [String: Any])?["content"] as? [[String: Any]]
            #expect(content?.first?["text"] as? String == "HI")

            let unknown = try object(try await post(#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"nope"}}"#, session: session).body)
            let unknownError = try #require(unknown["error"] as? [String: Any])
            #expect(unknownError["code"] as? Int == -32602)
            #expect((unknownError["message"] as? String)?.contains("Available: explode, shout, wait") == true)

            // No tool name: the SDK server's own answer (an event stream), an error, not a crash.
            let nameless = try await post(#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"arguments":{}}}"#, session: session)
            #expect(nameless.contentType?.hasPrefix("text/event-stream") == true)
            #expect(nameless.body.contains(#""error""#) && nameless.body.contains(#""id":9"#))

            // The client's notifications/cancelled ends the call with the SDK server's error.
            async let waited = post(#"{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"wait","arguments":{}}}"#, session: session)
            try await Task.sleep(for: .milliseconds(200))
            _ = try await post(#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":10,"reason":"test"}}"#, session: session)
            let cancelled = try object(try await waited.body)
            #expect((cancelled["error"] as? [String: Any])?["code"] as? Int == -32800)
        }
    }
}
