import Foundation
import MCP
import ServiceKit
import Testing

@testable import Gateway

/// Replies spliced around already-encoded results must be the JSON a decoder expects.
@Suite struct ModernReplyTests {
    func object(_ reply: ModernMCP.Reply) throws -> [String: Any] {
        let body = try #require(reply.body)
        return try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
    }

    @Test func splicesModernFieldsIntoAnyResultObject() throws {
        let full = try object(ModernMCP.reply(idJSON: ModernMCP.encodeID(7), encodedResult: Data(#"{"tools":[{"name":"a_b"}]}"#.utf8), cacheable: true))
        #expect(full["jsonrpc"] as? String == "2.0" && full["id"] as? Int == 7)
        let result = try #require(full["result"] as? [String: Any])
        #expect(result["resultType"] as? String == "complete" && result["ttlMs"] as? Int == 0 && result["cacheScope"] as? String == "private")
        #expect((result["tools"] as? [[String: Any]])?.first?["name"] as? String == "a_b")

        let empty = try object(ModernMCP.reply(idJSON: Data(#""req-1""#.utf8), encodedResult: Data("{ }".utf8)))
        #expect(empty["id"] as? String == "req-1")
        #expect((empty["result"] as? [String: Any])?.count == 1)

        let nullID = try object(ModernMCP.reply(idJSON: ModernMCP.encodeID(nil), encodedResult: Data(#"{"content":[],"isError":true}"#.utf8)))
        #expect(nullID["id"] is NSNull)
        #expect((nullID["result"] as? [String: Any])?["isError"] as? Bool == true)
    }

    @Test func toolCallArgumentsPassThroughAsTheClientWroteThem() throws {
        // Escapes, a float written as 1.0 and key order survive; re-serializing would change them.
        let body = Data(#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"fx_echo","arguments":{"text":"caf\u00e9 \"q\" {x}","n":1.0,"a":[1,{"b":null}]},"_meta":{}}}"#.utf8)
        let params = try #require((try JSONSerialization.jsonObject(with: body) as? [String: Any])?["params"] as? [String: Any])
        let call = try ModernMCP.ToolCall(params, body: body)
        #expect(call.name == "fx_echo")
        #expect(String(decoding: try #require(call.arguments), as: UTF8.self) == #"{"text":"caf\u00e9 \"q\" {x}","n":1.0,"a":[1,{"b":null}]}"#)

        let noArguments = try ModernMCP.ToolCall(["name": "fx_echo"], body: Data(#"{"params":{"name":"fx_echo"}}"#.utf8))
        #expect(noArguments.arguments == nil)
        #expect(throws: (any Error).self) { try ModernMCP.ToolCall(["name": "fx_echo", "arguments": [1, 2]], body: Data()) }
        #expect(throws: (any Error).self) { try ModernMCP.ToolCall(["arguments": [:] as [String: Any]], body: Data()) }
    }

    @Test func shardRequestSplicesArgumentsAndMeta() throws {
        let arguments = Data(#"{"path":"a/b","deep":{"x":[true,false]}}"#.utf8)
        let request = try ShardToolResult.request(id: "gw-9", tool: "say \"hi\"", arguments: arguments, meta: Metadata(progressToken: .string("p1")))
        let object = try #require(try JSONSerialization.jsonObject(with: request) as? [String: Any])
        #expect(object["jsonrpc"] as? String == "2.0" && object["id"] as? String == "gw-9" && object["method"] as? String == "tools/call")
        let params = try #require(object["params"] as? [String: Any])
        #expect(params["name"] as? String == "say \"hi\"")
        #expect((params["_meta"] as? [String: Any])?["progressToken"] as? String == "p1")
        #expect(RawJSON.member("params", "arguments", in: request) == arguments)

        let bare = try ShardToolResult.request(id: "gw-10", tool: "t", arguments: nil, meta: nil)
        #expect(String(decoding: bare, as: UTF8.self) == #"{"jsonrpc":"2.0","id":"gw-10","method":"tools/call","params":{"name":"t"}}"#)
    }
}
