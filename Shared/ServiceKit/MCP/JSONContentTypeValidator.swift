import MCP

/// The SDK's `ContentTypeValidator` (a POST must say `Content-Type: application/json`), same
/// rule and same 415 answer, without its cost: the SDK's splits the header with the regex-backed
/// `split(separator:)` and trims it with a Foundation character set, which perf showed as most
/// of the session checks on every call of the gateway's fast lane.
public struct JSONContentTypeValidator: HTTPRequestValidator {
    public init() {}

    public func validate(_ request: MCP.HTTPRequest, context: HTTPValidationContext) -> MCP.HTTPResponse? {
        guard context.httpMethod == "POST" else { return nil }
        if Self.mainType(of: request.header(HTTPHeaderName.contentType) ?? "") == "application/json" { return nil }
        return .error(
            statusCode: 415, .invalidRequest("Unsupported Media Type: Content-Type must be application/json"), sessionID: context.sessionID)
    }

    /// The first non-empty part between `;`s, without the blanks around it (as the SDK reads it).
    static func mainType(of contentType: String) -> Substring {
        (contentType.split(separator: ";" as Character).first ?? "").trimmingBlanks()
    }
}

extension Substring {
    /// Without the leading and trailing white space (`CharacterSet.whitespaces`: tab and the
    /// Unicode space separators).
    fileprivate func trimmingBlanks() -> Substring {
        func isBlank(_ character: Character) -> Bool {
            character == "\t" || character.unicodeScalars.allSatisfy { $0.properties.generalCategory == .spaceSeparator }
        }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else { return "" }
        return self[first...last]
    }
}
