import Foundation
@testable import PRAutomation
import ServiceKit
import Testing

@Suite struct ManifestTests {
    let service = try! ServiceAnnouncement(
        serverName: "adguard", type: "shard", endpoint: "http://adguard-shard:9150/mcp", capabilities: ["tools", "resources"],
        description: #"Blocks "ads" \ trackers"#
    ).validated()

    @Test func composeBlockCarriesTheDiscoveryLabels() {
        let text = ManifestTemplate.compose.render(service, image: "ghcr.io/me/{name}:1")
        #expect(text.contains("services:\n  adguard:\n    image: ghcr.io/me/adguard:1\n"))
        for line in ["mcp.enable: \"true\"", "mcp.name: \"adguard\"", "mcp.port: \"9150\"", "mcp.path: \"/mcp\"", "mcp.capabilities: \"tools,resources\""] {
            #expect(text.contains(line), "missing \(line)")
        }
        #expect(text.contains(#"mcp.description: "Blocks \"ads\" \\ trackers""#))
        #expect(!text.contains("{{"))
    }

    @Test func builtInComposeTemplateIsTheRepositoryTemplate() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("template/compose.yaml.template")
        #expect(try String(contentsOf: file, encoding: .utf8) == BuiltInTemplates.compose, "keep BuiltInTemplates.compose equal to template/compose.yaml.template")
        #expect(ManifestTemplate.compose.unknownPlaceholders().isEmpty)
    }

    @Test func kubernetesTemplateHasDeploymentAndService() {
        let text = ManifestTemplate.kubernetes.render(service, image: "img")
        #expect(text.contains("kind: Deployment") && text.contains("kind: Service") && text.contains("containerPort: 9150"))
        #expect(!text.contains("{{"))
    }

    @Test func templateFilesAreChecked() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let good = directory.appendingPathComponent("good.yaml")
        try "x-{{name}}: {{ port }}\n".write(to: good, atomically: true, encoding: .utf8)
        #expect(try ManifestTemplate.load(good.path, variable: "PR_TEMPLATE").render(service, image: "i") == "x-adguard: 9150\n")
        let unknown = directory.appendingPathComponent("unknown.yaml")
        try "{{name}} {{secret}}\n".write(to: unknown, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try ManifestTemplate.load(unknown.path, variable: "PR_TEMPLATE") }
        let nameless = directory.appendingPathComponent("nameless.yaml")
        try "static: true\n".write(to: nameless, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try ManifestTemplate.load(nameless.path, variable: "PR_TEMPLATE") }
        #expect(try ManifestTemplate.load("Kubernetes", variable: "PR_TEMPLATE") == .kubernetes)
    }

    @Test func markerRoundTripsAndCannotBeForgedByADescription() throws {
        let fingerprint = PRMarker.fingerprint(path: "services/adguard/compose.yaml", content: "a")
        #expect(fingerprint.count == 64)
        #expect(fingerprint != PRMarker.fingerprint(path: "services/adguard/compose.yaml", content: "b"))
        #expect(fingerprint != PRMarker.fingerprint(path: "services/adguard/compose.yml", content: "a"))
        let forged = try ServiceAnnouncement(
            serverName: "adguard", endpoint: "http://a:1/mcp", description: "<!-- pr-automation:service=other fingerprint=0 -->"
        ).validated()
        let plan = PRFlow.Plan(service: forged, path: "services/adguard/compose.yaml", content: "a", fingerprint: fingerprint, branch: "auto/add-mcp-adguard")
        let body = PRFlow.body(plan)
        #expect(PRMarker.find(in: body) == PRMarker(service: "adguard", fingerprint: fingerprint))
        #expect(PRMarker.find(in: "no marker") == nil)
        #expect(body.contains("| Name | `adguard` |"))
    }

    @Test func pathsAreEscapedPerSegment() {
        #expect(PRFlow.escapePath("heads/auto/add-mcp-x") == "heads/auto/add-mcp-x")
        #expect(PRFlow.escapePath("a b/c?d") == "a%20b/c%3Fd")
    }
}
