import Foundation

/// Ready-to-paste settings for each client, for `GET /api/v1/clients/<profile>`. Tokens are never
/// included: the snippets say `<token>` where one goes.
enum ClientSnippets {
    static func make(profile: GatewayProfile, publicURL: String, internalURL: String) -> [String: Any] {
        let path = profile.mcpPath
        let needsToken = !profile.tokens.isEmpty
        let token = "<token for profile \(profile.name)>"
        let serverName = serverName(clientPrefix: profile.clientPrefix)
        let openAPIBase = "/v/\(profile.name)"

        var claudeCommand = "claude mcp add --transport http \(serverName) \(publicURL)\(path)"
        if needsToken { claudeCommand += " --header \"Authorization: Bearer \(token)\"" }
        var claudeServer: [String: Any] = ["type": "http", "url": publicURL + path]
        if needsToken { claudeServer["headers"] = ["Authorization": "Bearer \(token)"] }

        let toolServerConnection: [String: Any] = [
            "type": "mcp",
            "url": internalURL + path,
            "path": "",
            "auth_type": needsToken ? "bearer" : "none",
            "key": needsToken ? token : "",
            "config": ["enable": true],
            "info": ["id": serverName, "name": "Homelab (\(profile.name))", "description": "Homelab tools through the MCP gateway"],
        ]
        let openAPIConnection: [String: Any] = [
            "url": internalURL + openAPIBase,
            "path": "openapi.json",
            "auth_type": needsToken ? "bearer" : "none",
            "key": needsToken ? token : "",
            "config": ["enable": true],
        ]
        return [
            "profile": profile.name,
            "mcp_url": ["from_containers": internalURL + path, "from_host_or_lan": publicURL + path],
            "tool_name_budget": [
                "client_prefix": profile.clientPrefix,
                "note": "Tool names are sized so that client_prefix + name stays within 64 characters.",
            ],
            "open_webui": [
                "admin_settings": [
                    "where": "Admin Settings > External Tools (Integrations) > Add Connection",
                    "type": "MCP (Streamable HTTP)",
                    "url": internalURL + path,
                    "auth": needsToken ? "Bearer, key = \(token)" : "None (a Bearer with an empty key sends an empty header and is refused)",
                    "id": serverName,
                ],
                "TOOL_SERVER_CONNECTIONS": [toolServerConnection],
                "openapi_alternative": openAPIConnection,
            ],
            "claude_code": [
                "command": claudeCommand,
                "mcp_json": ["mcpServers": [serverName: claudeServer]],
                "note": "Tools appear as mcp__\(serverName)__<tool>; set client_prefix: mcp__\(serverName)__ on this profile so names stay within 64 characters.",
            ],
            "n8n": [
                "node": "MCP Client Tool",
                "endpoint": internalURL + path,
                "server_transport": "HTTP Streamable",
                "authentication": needsToken ? "Bearer Auth (credential: \(token))" : "None",
                "tools_to_include": "All (or Selected, by the names from tools/list)",
            ],
        ]
    }

    /// The name the client gives the server: the one the profile's `client_prefix` was sized for
    /// (Claude Code's `mcp__<name>__`, Open WebUI's `<connection id>_`), else "homelab". Why: the
    /// client puts that name in front of every tool name, and the gateway shortens tool names so
    /// that exactly `client_prefix` + name fits 64 characters; a snippet naming the server after
    /// the profile ("openwebui_" is two characters longer than "homelab_") broke that budget.
    static func serverName(clientPrefix: String) -> String {
        var name = Substring(clientPrefix)
        if name.hasPrefix("mcp__") {
            guard name.hasSuffix("__"), name.count > 7 else { return "homelab" }
            name = name.dropFirst(5).dropLast(2)
        } else if name.hasSuffix("_") {
            name = name.dropLast()
        }
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        return !name.isEmpty && allowed ? String(name) : "homelab"
    }
}
