import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MCP
import MCPShared
import NIOCore
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
        ])

    struct CancellationErrorLike: Error, CustomStringConvertible { var description: String { "boom" } }

    @Test func servesToolsManifestAndHealthOverHTTP() async throws {
        // `.live` binds port 0 and reports the real port as `client.port`.
        let app = ShardApplication.build(
            definition: Self.definition,
            settings: ShardSettings(listen: .init(host: "127.0.0.1", port: 0)),
            logger: Logger(label: "test"))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let manifest = try await client.execute(uri: "/manifest", method: .get) { response in
                try JSONDecoder().decode(ShardManifest.self, from: Data(response.body.readableBytesView))
            }
            #expect(manifest.name == "demo" && manifest.tools.map(\.name) == ["shout", "explode"])
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
                #expect(tools.tools.count == 2)
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
}

