import Foundation
@testable import PRAutomation
import ServiceKit
import Testing

@Suite struct AnnouncementTests {
    @Test func acceptsTheSeedsBodyAndDiscoverysRecord() throws {
        let seed = try JSONDecoder().decode(ServiceAnnouncement.self, from: Data(#"{"server_name":"dozzle","type":"shard","endpoint":"http://dozzle-shard:9140/mcp","capabilities":["tools"],"dry_run":true}"#.utf8))
        #expect(seed.serverName == "dozzle" && seed.dryRun)
        let record = try JSONDecoder().decode(ServiceAnnouncement.self, from: Data(#"{"name":"gitea","endpoint":"https://gitea.lan/mcp","health_status":"healthy"}"#.utf8))
        #expect(record.serverName == "gitea" && record.type == "shard" && record.capabilities == ["tools"] && !record.dryRun)
        let valid = try record.validated()
        #expect(valid.port == 443 && valid.path == "/mcp" && valid.host == "gitea.lan")
    }

    @Test(arguments: [
        ("../etc", "http://x:1/mcp"), ("Dozzle", "http://x:1/mcp"), ("-x", "http://x:1/mcp"), ("", "http://x:1/mcp"),
        (String(repeating: "a", count: 64), "http://x:1/mcp"), ("dozzle", "ftp://x/mcp"), ("dozzle", "http://x:1/mcp\" evil"),
        ("dozzle", "http:///mcp"), ("dozzle", "http://x/{{name}}"),
    ])
    func refusesUnsafeValues(_ name: String, _ endpoint: String) {
        #expect(throws: ServiceError.self) { try ServiceAnnouncement(serverName: name, endpoint: endpoint).validated() }
    }

    @Test func refusesBadCapabilitiesAndDescriptions() {
        #expect(throws: ServiceError.self) { try ServiceAnnouncement(serverName: "a", endpoint: "http://a/mcp", capabilities: []).validated() }
        #expect(throws: ServiceError.self) { try ServiceAnnouncement(serverName: "a", endpoint: "http://a/mcp", capabilities: ["x y"]).validated() }
        #expect(throws: ServiceError.self) { try ServiceAnnouncement(serverName: "a", endpoint: "http://a/mcp", description: "a\nb").validated() }
        #expect(throws: ServiceError.self) { try ServiceAnnouncement(serverName: "a", endpoint: "http://a/mcp", description: String(repeating: "x", count: 501)).validated() }
    }

    @Test func branchNamesAreFixedAndSanitised() {
        #expect(BranchName.forService("dozzle") == "auto/add-mcp-dozzle")
        #expect(BranchName.sanitise("My Service!!v2") == "my-service-v2")
        #expect(BranchName.sanitise("--") == "service")
        #expect(BranchName.isValid("main") && BranchName.isValid("release/2026"))
        for bad in ["", "a..b", "a b", "x:y", "x.lock", "/x", "x/", "a@{b", "a~1", "a^"] {
            #expect(!BranchName.isValid(bad), "\(bad) should be refused")
        }
    }

    @Test func manifestPathsStayInTheirFolder() throws {
        let path = try ManifestPath("services/{name}/compose.yaml")
        #expect(path.folder == "services/")
        #expect(try path.render(name: "dozzle") == "services/dozzle/compose.yaml")
        #expect(try ManifestPath("{name}.yaml").folder == "")
        #expect(try ManifestPath("k8s/apps/{name}.yaml").folder == "k8s/apps/")
        for bad in ["services/compose.yaml", "../{name}.yaml", "/etc/{name}", "a/./{name}", "a//{name}", "a/{name}/"] {
            #expect(throws: ConfigurationError.self) { try ManifestPath(bad) }
        }
        #expect(throws: ServiceError.self) { try path.render(name: "..") }
    }
}
