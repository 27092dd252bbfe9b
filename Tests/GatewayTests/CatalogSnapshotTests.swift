@testable import Gateway
import MCP
import Testing

@Suite struct CatalogSnapshotTests {
    static func tool(_ name: String) -> Tool {
        Tool(name: name, description: "d", inputSchema: ["type": "object"])
    }

    @Test func prefixesToolsAndRoutesThemToTheirShard() {
        let snapshot = CatalogSnapshot.build(shards: [
            ShardOffer(name: "traefik", tools: [Self.tool("list_routes")]),
            ShardOffer(name: "dozzle", tools: [Self.tool("list_routes"), Self.tool("logs")]),
        ])
        #expect(snapshot.tools.map(\.name) == ["dozzle_list_routes", "dozzle_logs", "traefik_list_routes"])
        #expect(snapshot.routes["traefik_list_routes"]?.shard == "traefik")
        #expect(snapshot.routes["dozzle_logs"]?.originalName == "logs")
        #expect(snapshot.collisions.isEmpty)
    }

    @Test func collisionsAreRenamedReportedAndNeverFatal() {
        // "a_b" + "c" and "a" + "b_c" both become "a_b_c".
        let snapshot = CatalogSnapshot.build(shards: [
            ShardOffer(name: "a_b", tools: [Self.tool("c")]),
            ShardOffer(name: "a", tools: [Self.tool("b_c")]),
        ])
        #expect(snapshot.tools.count == 2)
        #expect(Set(snapshot.tools.map(\.name)).count == 2)
        #expect(snapshot.collisions.count == 1)
        #expect(snapshot.collisions[0].contains("a_b_c"))
        #expect(snapshot.tools.allSatisfy { $0.name.count <= 64 })
        // Deterministic: the same inputs give the same names.
        let again = CatalogSnapshot.build(shards: [
            ShardOffer(name: "a", tools: [Self.tool("b_c")]),
            ShardOffer(name: "a_b", tools: [Self.tool("c")]),
        ])
        #expect(again.tools.map(\.name) == snapshot.tools.map(\.name))
    }
}
