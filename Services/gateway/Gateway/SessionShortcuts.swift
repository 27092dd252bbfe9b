import Foundation
import Logging
import MCP
import ServiceKit

/// What a client session's requests get from the gateway without its SDK `Server`: the one-page
/// `tools/list` encoded once per catalog change, and `tools/call` forwarded as bytes, like the
/// stateless era (see `MCPSessionRegistry.shortcutAnswer` for why). A call that asks for progress
/// stays with the SDK `Server`, which streams the notifications on the request's SSE response.
struct SessionShortcuts: Sendable {
    let catalog: Catalog
    let profile: String
    let logger: Logger

    func answer(method: String, params: [String: JSONValue], body: Data, request: MCP.HTTPRequest) throws -> SessionShortcut? {
        switch method {
        case "tools/list":
            // One page, no cursor: the list the stateless era serves.
            guard params["cursor"] == nil else { return nil }
            return .result(catalog.snapshot(for: profile).encodedLists.tools)
        case "tools/call":
            let meta = params["_meta"]?.objectValue
            guard meta?["progressToken"] == nil else { return nil }
            let call = try ModernMCP.ToolCall(params, body: body)
            // The rest of `_meta` reaches the shard, as through the SDK server.
            let forwardedMeta = try meta.map { _ in
                try JSONDecoder().decode(Metadata.self, from: RawJSON.member("params", "_meta", in: body) ?? Data("{}".utf8))
            }
            CallerIdentity.log(request, tool: call.name, logger: logger)
            let catalog = catalog, profile = profile
            return .work {
                try await catalog.call(call.name, arguments: call.arguments, meta: forwardedMeta, profile: profile).json
            }
        default:
            return nil
        }
    }
}
