import MCPShared
import Testing

@Suite struct ToolNamingTests {
    @Test func shortNamesAreJoinedUnchanged() {
        #expect(ToolNaming.qualifiedName(shard: "traefik", tool: "list_routes") == "traefik_list_routes")
    }

    @Test func illegalCharactersAreReplaced() {
        #expect(ToolNaming.qualifiedName(shard: "n8n", tool: "workflow.run:now") == "n8n_workflow_run_now")
        #expect(ToolNaming.isValid("a.b") == false)
        #expect(ToolNaming.sanitize("") == "_")
    }

    @Test func longNamesAreShortenedDeterministicallyWithinTheClientBudget() {
        let tool = String(repeating: "very_long_tool_name_", count: 5)
        // Claude Code prefixes `mcp__<server>__`: 5 + 7 + 2 = 14 characters for server "homelab".
        let prefix = "mcp__homelab__"
        let first = ToolNaming.qualifiedName(shard: "authentik", tool: tool, clientPrefixLength: prefix.count)
        let again = ToolNaming.qualifiedName(shard: "authentik", tool: tool, clientPrefixLength: prefix.count)
        #expect(first == again)
        #expect((prefix + first).count == 64)
        #expect(ToolNaming.isValid(prefix + first))
        #expect(first.hasPrefix("authentik_very_long"))
    }

    @Test func namesSharingALongStartStillDiffer() {
        let base = String(repeating: "x", count: 70)
        let a = ToolNaming.qualifiedName(shard: "s", tool: base + "a")
        let b = ToolNaming.qualifiedName(shard: "s", tool: base + "b")
        #expect(a != b)
        #expect(a.count == 64 && b.count == 64)
    }
}
