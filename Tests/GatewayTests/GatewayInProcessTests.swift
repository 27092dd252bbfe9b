import AsyncHTTPClient
import Foundation
import Gateway
import Hummingbird
import HummingbirdTesting
import Logging
import MCP
import ServiceKit
import ShardKit
import Testing
import TestSupport

/// A shard and the gateway, both real HTTP servers in this process, with the SDK `Client` on our
/// transport as the MCP client.
@Suite struct GatewayInProcessTests {
    static let shard = ShardDefinition(
        name: "demo", version: "1", description: "demo",
        tools: [
            ShardTool(
                name: "echo", description: "Echoes.",
                inputSchema: JSONSchema.object(["text": JSONSchema.string("Text.")], required: ["text"]),
                annotations: .init(readOnlyHint: true)
            ) { .text(try $0.requiredString("text")) },
        ])

    @Test func aggregatesAndRoutesAShard() async throws {
        // `.live` binds port 0 and reports the real port as `client.port`.
        let shardApp = ShardApplication.build(
            definition: Self.shard, settings: ShardSettings(listen: .init(host: "127.0.0.1", port: 0)), logger: Logger(label: "shard"))
        try await shardApp.test(.live) { shardClient in
            let shardPort = try #require(shardClient.port)
            let settings = try GatewaySettings(config: ServiceConfig(environment: [
                "PORT": "0", "GATEWAY_SHARDS": "demo=http://127.0.0.1:\(shardPort)/mcp",
            ]))
            let gateway = try await GatewayApplication.build(settings: settings, logger: Logger(label: "gateway"))
            try await gateway.test(.live) { client in
                let gatewayPort = try #require(client.port)
                let mcp = Client(name: "test", version: "1")
                try await mcp.connect(transport: StreamableHTTPClientTransport(endpoint: "http://127.0.0.1:\(gatewayPort)/mcp", httpClient: .shared))
                let tools = try await mcp.listTools().tools
                #expect(tools.map(\.name) == ["demo_echo"])
                #expect(tools.first?.annotations.readOnlyHint == true)
                let result = try await mcp.callTool(name: "demo_echo", arguments: ["text": "via gateway"])
                #expect(result.content == [.text(text: "via gateway", annotations: nil, _meta: nil)])
                await mcp.disconnect()

                try await client.execute(uri: "/api/v1/shards", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains("\"demo_echo\"") == false)
                    #expect(String(buffer: response.body).contains("\"echo\""))
                }
            }
        }
    }
}
