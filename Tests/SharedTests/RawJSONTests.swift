import Foundation
import MCP
import ServiceKit
import Testing

@Suite struct RawJSONTests {
    func text(_ data: Data?) -> String? { data.map { String(decoding: $0, as: UTF8.self) } }

    @Test func findsMembersAtAnyDepthByteForByte() {
        let json = Data(#" { "a" : 1 , "s":"x,\"}]{" , "o": {"inner" : [1, {"k": "v"}], "t":true} ,"n":null, "f":-1.5e3 } "#.utf8)
        #expect(text(RawJSON.member("a", in: json)) == "1")
        #expect(text(RawJSON.member("s", in: json)) == #""x,\"}]{""#)
        #expect(text(RawJSON.member("o", "inner", in: json)) == #"[1, {"k": "v"}]"#)
        #expect(text(RawJSON.member("o", "t", in: json)) == "true")
        #expect(text(RawJSON.member("n", in: json)) == "null")
        #expect(text(RawJSON.member("f", in: json)) == "-1.5e3")
        // A slice of a larger Data works the same.
        let sliced = Data(#"xx{"k":[2]}"#.utf8).dropFirst(2)
        #expect(text(RawJSON.member("k", in: sliced)) == "[2]")
    }

    @Test func anythingUnexpectedIsNil() {
        #expect(RawJSON.member("missing", in: Data(#"{"a":1}"#.utf8)) == nil)
        #expect(RawJSON.member("a", "b", in: Data(#"{"a":[1]}"#.utf8)) == nil)        // not an object
        #expect(RawJSON.member("a", in: Data(#"[{"a":1}]"#.utf8)) == nil)            // top level not an object
        #expect(RawJSON.member("b", in: Data(#"{"a":{"b":1}"#.utf8)) == nil)         // truncated
        #expect(RawJSON.member("a", in: Data(#"{"a":"unterminated}"#.utf8)) == nil)
        #expect(RawJSON.member("a", in: Data(#"{"a" 1}"#.utf8)) == nil)              // no colon
        #expect(RawJSON.member("a", in: Data(#"{"\u0061":1}"#.utf8)) == nil)         // escaped key: callers fall back
        #expect(RawJSON.member("a", in: Data()) == nil)
        #expect(RawJSON.member("a", in: Data(#"{"a":}"#.utf8)) == nil)
    }

    @Test func responsesPassTheirResultThroughAndThrowTheirErrors() throws {
        let answer = Data(#"{"jsonrpc":"2.0","id":"gw-1","result":{"content":[{"type":"text","text":"a\/b é"}],"isError":true}}"#.utf8)
        #expect(JSONRPCResponse(answer, to: "gw-2") == nil)
        #expect(JSONRPCResponse(Data(#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}}"#.utf8), to: "gw-1") == nil)
        let response = try #require(JSONRPCResponse(answer, to: "gw-1"))
        let (json, isError) = try response.resultJSON()
        #expect(text(json) == #"{"content":[{"type":"text","text":"a\/b é"}],"isError":true}"#)
        #expect(isError)
        #expect(try #require(JSONRPCResponse(Data(#"{"id":"gw-1","result":{"content":[]}}"#.utf8), to: "gw-1")).resultJSON().isError == false)
        // Malformed JSON is no response at all; a result that is not an object is an error.
        #expect(JSONRPCResponse(Data(#"{"jsonrpc":"2.0","id":"gw-1","result":{"content":[}}"#.utf8), to: "gw-1") == nil)
        #expect(JSONRPCResponse(Data(#"{"jsonrpc":"2.0","id":1,"result":{}}"#.utf8), to: "1") == nil)
        let notAnObject = try #require(JSONRPCResponse(Data(#"{"jsonrpc":"2.0","id":"gw-4","result":null}"#.utf8), to: "gw-4"))
        #expect(throws: MCPError.self) { try notAnObject.resultJSON() }
        // An escaped key still finds the result, through Foundation.
        let escaped = try #require(JSONRPCResponse(Data(#"{"id":"gw-5","\u0072esult":{"isError":false,"content":[]}}"#.utf8), to: "gw-5"))
        #expect(text(try escaped.resultJSON().json)?.contains("content") == true)

        let failed = try #require(JSONRPCResponse(Data(#"{"jsonrpc":"2.0","id":"gw-3","error":{"code":-32602,"message":"Unknown tool: x"}}"#.utf8), to: "gw-3"))
        #expect { _ = try failed.resultJSON() } throws: { error in
            (error as? MCPError)?.code == -32602 && (error as? MCPError)?.errorDescription?.contains("Unknown tool: x") == true
        }
        // An error object the SDK cannot decode keeps its message.
        let odd = try #require(JSONRPCResponse(Data(#"{"id":"gw-6","error":{"message":"boom"}}"#.utf8), to: "gw-6"))
        #expect { _ = try odd.resultJSON() } throws: { error in (error as? MCPError)?.errorDescription?.contains("boom") == true }
    }
}
