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
        let params = try #require(try JSONValue.parse(body)["params"]?.objectValue)
        let call = try ModernMCP.ToolCall(params, body: body)
        #expect(call.name == "fx_echo")
        #expect(String(decoding: try #require(call.arguments), as: UTF8.self) == #"{"text":"caf\u00e9 \"q\" {x}","n":1.0,"a":[1,{"b":null}]}"#)

        let noArguments = try ModernMCP.ToolCall(["name": "fx_echo"], body: Data(#"{"params":{"name":"fx_echo"}}"#.utf8))
        #expect(noArguments.arguments == nil)
        #expect(throws: (any Error).self) { try ModernMCP.ToolCall(["name": "fx_echo", "arguments": [1, 2]], body: Data()) }
        #expect(throws: (any Error).self) { try ModernMCP.ToolCall(["arguments": [:]], body: Data()) }
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

    /// Every request of the stateless era passes `ModernMCP.validate` (the normal path and the
    /// fast lane): each way to get it wrong has its own code, and a good one keeps its id as written.
    @Test func validationGivesEachBadRequestItsErrorAndKeepsTheIDAsWritten() throws {
        let version = "2026-07-28"
        func body(_ id: String = "7", method: String = "tools/call", meta: String = #"{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}"#) -> Data {
            Data(#"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)","params":{"name":"fx_echo","arguments":{},"_meta":\#(meta)}}"#.utf8)
        }
        let headers = ["mcp-protocol-version": version, "mcp-method": "tools/call", "mcp-name": "fx_echo"]
        func failure(_ headers: [String: String], _ body: Data) throws -> (status: Int, code: Int?, id: JSONValue?, error: JSONValue?) {
            guard case .reply(let reply) = ModernMCP.validate(headers: headers, body: body) else {
                Issue.record("validated: \(String(decoding: body, as: UTF8.self))")
                return (0, nil, nil, nil)
            }
            let envelope = try reply.body.map { try JSONValue.parse($0) }
            return (reply.status, envelope?["error"]?["code"]?.intValue, envelope?["id"], envelope?["error"])
        }

        // Not JSON, not an object, a trailing comma (Foundation took those), invalid UTF-8.
        let invalidUTF8 = Data(#"{"id":1,"method":"p"#.utf8) + [0xFF] + Data(#""}"#.utf8)
        for garbage in ["", "nope", #"{"id":1,"method":"ping",}"#].map { Data($0.utf8) } + [invalidUTF8] {
            let answer = try failure(headers, garbage)
            #expect(answer.status == 400 && answer.code == -32700 && answer.id == .null, "\(String(decoding: garbage, as: UTF8.self))")
            #expect(answer.error?["message"]?.stringValue?.contains("invalid JSON at byte") == true)
        }
        // Valid JSON that is not one request: a batch, a bare value; an id that MCP does not allow.
        for notOne in [#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, "7"] {
            let answer = try failure(headers, Data(notOne.utf8))
            #expect(answer.status == 400 && answer.code == -32600, "\(notOne)")
        }
        for badID in ["true", "null", "1.5", "{}", "[1]", "1e30"] {
            let answer = try failure(headers, body(badID))
            #expect(answer.status == 400 && answer.code == -32600 && answer.error?["message"]?.stringValue?.contains("id must be") == true, "\(badID)")
        }
        let noMethod = try failure(headers, Data(#"{"jsonrpc":"2.0","id":"x"}"#.utf8))
        #expect(noMethod.status == 400 && noMethod.code == -32600 && noMethod.id == "x")
        let notification = try failure(headers, Data(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.utf8))
        #expect(notification.status == 202 && notification.code == nil)

        let noVersion = try failure([:], body(meta: "{}"))
        #expect(noVersion.status == 400 && noVersion.code == ModernMCP.Code.headerMismatch && noVersion.id == 7)
        let old = try failure(["mcp-protocol-version": "2024-11-05"], body(meta: #"{"io.modelcontextprotocol/protocolVersion":"2024-11-05"}"#))
        #expect(old.code == ModernMCP.Code.unsupportedVersion)
        #expect(old.error?["data"]?["requested"] == "2024-11-05")
        #expect(old.error?["data"]?["supported"]?.arrayValue?.contains("2026-07-28") == true)
        #expect(try failure([:], body()).code == ModernMCP.Code.headerMismatch)
        #expect(try failure(headers.merging(["mcp-method": "tools/list"]) { $1 }, body()).code == ModernMCP.Code.headerMismatch)
        #expect(try failure(headers.merging(["mcp-name": "other"]) { $1 }, body()).code == ModernMCP.Code.headerMismatch)

        // A good request: its id bytes go back unchanged, whatever form the client chose.
        for id in ["7", #""a\u0062""#, "1.0", "-3"] {
            guard case .request(let request) = ModernMCP.validate(headers: headers, body: body(id)) else {
                Issue.record("refused id \(id)")
                continue
            }
            #expect(String(decoding: request.idJSON, as: UTF8.self) == id)
            #expect(request.method == "tools/call" && request.params["name"] == "fx_echo")
        }
        let named = headers.merging(["mcp-name": "=?base64?" + Data("fx_echo".utf8).base64EncodedString() + "?="]) { $1 }
        guard case .request = ModernMCP.validate(headers: named, body: body()) else {
            Issue.record("a base64 Mcp-Name was refused")
            return
        }
    }
}
