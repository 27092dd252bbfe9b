import MCP

/// DNS-rebinding protection that works behind Compose names.
///
/// The SDK's `OriginValidator.localhost()` also pins the Host header to localhost and answers
/// 421 to `gateway:9100`; here Host is checked only when a list is configured, and Origin is
/// checked whenever a browser sends one (403, as the 2025-11-25 transport requires).
public struct OriginHostValidator: HTTPRequestValidator {
    let allowedOrigins: [String]
    let allowedHosts: [String]

    public init(allowedOrigins: [String], allowedHosts: [String]) {
        self.allowedOrigins = allowedOrigins.map { $0.lowercased() }
        self.allowedHosts = allowedHosts.map { $0.lowercased() }
    }

    public func validate(_ request: MCP.HTTPRequest, context: HTTPValidationContext) -> MCP.HTTPResponse? {
        if !allowedHosts.isEmpty, let host = request.header(HTTPHeaderName.host)?.lowercased() {
            let bare = host.split(separator: ":").first.map(String.init) ?? host
            if !allowedHosts.contains(host) && !allowedHosts.contains(bare) {
                return .error(statusCode: 421, .invalidRequest("Misdirected Request: Host '\(host)' is not in the allowed hosts"), sessionID: context.sessionID)
            }
        }
        if let origin = request.header(HTTPHeaderName.origin)?.lowercased(), !isAllowed(origin: origin) {
            return .error(statusCode: 403, .invalidRequest("Forbidden: Origin '\(origin)' is not allowed; add it to the allowed origins"), sessionID: context.sessionID)
        }
        return nil
    }

    func isAllowed(origin: String) -> Bool {
        if allowedOrigins.contains("*") || allowedOrigins.contains(origin) { return true }
        // Tools on the same machine (MCP Inspector, local scripts) are allowed by default.
        for local in ["http://localhost", "http://127.0.0.1", "http://[::1]"] {
            if origin == local || origin.hasPrefix(local + ":") { return true }
        }
        return false
    }
}
