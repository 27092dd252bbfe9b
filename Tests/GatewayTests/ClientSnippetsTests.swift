import Testing

@testable import Gateway

/// `GET /api/v1/clients/<profile>`: the snippets name the server as the profile's tool-name budget
/// assumes.
@Suite struct ClientSnippetsTests {
    @Test func theServerNameIsTheOneTheClientPrefixWasSizedFor() {
        #expect(ClientSnippets.serverName(clientPrefix: "mcp__homelab__") == "homelab")
        #expect(ClientSnippets.serverName(clientPrefix: "mcp__lab-2__") == "lab-2")
        #expect(ClientSnippets.serverName(clientPrefix: "homelab_") == "homelab")
        #expect(ClientSnippets.serverName(clientPrefix: "tools_") == "tools")
        // No prefix, or one that names no server: the documented default.
        for prefix in ["", "_", "mcp____", "mcp__", "we ird_", "x/y_"] {
            #expect(ClientSnippets.serverName(clientPrefix: prefix) == "homelab", "\(prefix)")
        }
        let claude = GatewayProfile(name: "claude", clientPrefix: "mcp__homelab__")
        let snippets = ClientSnippets.make(profile: claude, publicURL: "http://waldorf:9100", internalURL: "http://gateway:9100")
        let command = (snippets["claude_code"] as? [String: Any])?["command"] as? String
        #expect(command == "claude mcp add --transport http homelab http://waldorf:9100/v/claude/mcp")
        let openWebUI = GatewayProfile(name: "openwebui", clientPrefix: "homelab_")
        let settings = (ClientSnippets.make(profile: openWebUI, publicURL: "", internalURL: "")["open_webui"] as? [String: Any])?["admin_settings"] as? [String: Any]
        #expect(settings?["id"] as? String == "homelab")
    }
}
