import Logging
import MCP

/// The caller's identity as Open WebUI forwards it (`X-OpenWebUI-User-*`), trusted only when the
/// request came from a trusted network: the HTTP bridge then adds `X-Gateway-Caller` and strips
/// any such header a client sent itself.
enum CallerIdentity {
    static let header = "X-Gateway-Caller"

    static func log(_ request: MCP.HTTPRequest?, tool: String, logger: Logger) {
        guard let caller = request?.header(header) else {
            logger.debug("tool call", metadata: ["tool": "\(tool)"])
            return
        }
        logger.info("tool call", metadata: ["tool": "\(tool)", "caller": "\(caller)"])
    }
}
