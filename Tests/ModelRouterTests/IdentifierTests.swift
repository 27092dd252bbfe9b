import Foundation
import Testing

@testable import ModelRouter

/// Response and tool-call ids: the shapes OpenAI clients see, from a UUID's bytes.
@Suite struct IdentifierTests {
    @Test func hexDigitsReadAsTheUUIDStringWithoutDashes() throws {
        for text in ["E621E1F8-C36C-495A-93FC-0C247A3E6E5F", "00000000-0000-0000-0000-000000000000", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"] {
            let uuid = try #require(UUID(uuidString: text))
            #expect(UUID.hexDigits(of: uuid) == text.replacingOccurrences(of: "-", with: "").lowercased())
        }
    }

    @Test func idsHaveOpenAIsShapesAndDoNotRepeat() {
        let completion = RouterAPI.completionID()
        #expect(completion.hasPrefix("chatcmpl-") && completion.count == 9 + 32)
        let call = ToolCall.newID()
        #expect(call.hasPrefix("call_") && call.count == 5 + 24)
        #expect(call.dropFirst(5).allSatisfy { "0123456789abcdef".contains($0) })
        #expect(Set((0..<100).map { _ in ToolCall.newID() }).count == 100)
    }
}
