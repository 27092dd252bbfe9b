import Foundation
import MCP
import Testing

@testable import ServiceKit

/// `JSONContentTypeValidator` answers exactly as the SDK's `ContentTypeValidator`, which it
/// replaces in the session registry's checks.
@Suite struct JSONContentTypeValidatorTests {
    static let contentTypes: [String?] = [
        "application/json", "application/json; charset=utf-8", " application/json ;charset=utf-8", "\tapplication/json\t",
        "application/json;", "\u{00A0}application/json", "Application/JSON", "application/jsonx", "text/plain", "application/json-seq",
        ";application/json", "", "   ", nil, "application/ json", "application/json\n",
    ]

    @Test(arguments: contentTypes)
    func answersAsTheSDKDoes(contentType: String?) {
        var headers: [String: String] = ["Accept": "application/json"]
        if let contentType { headers["Content-Type"] = contentType }
        let request = MCP.HTTPRequest(method: "POST", headers: headers, body: nil, path: "/mcp")
        let context = HTTPValidationContext(httpMethod: "POST", sessionID: "s1", isInitializationRequest: false, supportedProtocolVersions: [])
        let ours = JSONContentTypeValidator().validate(request, context: context)
        let sdk = ContentTypeValidator().validate(request, context: context)
        #expect(ours?.statusCode == sdk?.statusCode)
        // The same error object (its keys' order varies from one encoding to the next).
        #expect(Self.object(ours?.bodyData) == Self.object(sdk?.bodyData))
    }

    static func object(_ data: Data?) -> NSDictionary? {
        data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? NSDictionary }
    }

    @Test func acceptsJSONAndRejectsOthersWith415() {
        let context = HTTPValidationContext(httpMethod: "POST", sessionID: nil, isInitializationRequest: false, supportedProtocolVersions: [])
        let json = MCP.HTTPRequest(method: "POST", headers: ["content-type": "application/json; charset=utf-8"], body: nil, path: "/mcp")
        let text = MCP.HTTPRequest(method: "POST", headers: ["Content-Type": "text/plain"], body: nil, path: "/mcp")
        #expect(JSONContentTypeValidator().validate(json, context: context) == nil)
        #expect(JSONContentTypeValidator().validate(text, context: context)?.statusCode == 415)
        let get = HTTPValidationContext(httpMethod: "GET", sessionID: nil, isInitializationRequest: false, supportedProtocolVersions: [])
        #expect(JSONContentTypeValidator().validate(text, context: get) == nil)
    }
}
