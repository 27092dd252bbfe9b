import Foundation
import Testing

@testable import Gateway

/// Replies spliced around already-encoded results must be the JSON a decoder expects.
@Suite struct ModernReplyTests {
    func object(_ reply: ModernMCP.Reply) throws -> [String: Any] {
        let body = try #require(reply.body)
        return try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
    }

    @Test func splicesModernFieldsIntoAnyResultObject() throws {
        let full = try object(ModernMCP.reply(id: 7, encodedResult: Data(#"{"tools":[{"name":"a_b"}]}"#.utf8), cacheable: true))
        #expect(full["jsonrpc"] as? String == "2.0" && full["id"] as? Int == 7)
        let result = try #require(full["result"] as? [String: Any])
        #expect(result["resultType"] as? String == "complete" && result["ttlMs"] as? Int == 0 && result["cacheScope"] as? String == "private")
        #expect((result["tools"] as? [[String: Any]])?.first?["name"] as? String == "a_b")

        let empty = try object(ModernMCP.reply(id: "req-1", encodedResult: Data("{ }".utf8)))
        #expect(empty["id"] as? String == "req-1")
        #expect((empty["result"] as? [String: Any])?.count == 1)

        let nullID = try object(ModernMCP.reply(id: nil, encodedResult: Data(#"{"content":[],"isError":true}"#.utf8)))
        #expect(nullID["id"] is NSNull)
        #expect((nullID["result"] as? [String: Any])?["isError"] as? Bool == true)
    }
}
