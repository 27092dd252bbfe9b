import Foundation
import ShardKit
import Testing
import Yams

@testable import TraefikShard

@Suite struct RouteFileTests {
    @Test(arguments: ["grafana", "mcp-grafana", "a", "home-assistant-2"])
    func acceptsShortLowercaseNames(_ name: String) throws {
        let short = try RouteName.validate(name)
        #expect(!short.hasPrefix("mcp-") && !short.isEmpty)
    }

    @Test(arguments: ["../x", "a/b", "x{{y}}", "x}}", "UPPER", "-a", "a-", "a_b", "a.b", "", "mcp-", String(repeating: "x", count: 41)])
    func refusesNamesThatEscapeOrAreNotPlain(_ name: String) {
        #expect(throws: ToolInputError.self) { try RouteName.validate(name) }
    }

    @Test func refusesTemplateBracesAndBadURLsInOtherInputs() {
        #expect(throws: ToolInputError.self) { try RouteInput.rule("Host(`{{ .Env.X }}`)") }
        #expect(throws: ToolInputError.self) { try RouteInput.rule("Host(`a`)\nfoo: bar") }
        #expect(throws: ToolInputError.self) { try RouteInput.backend("grafana:3000") }
        #expect(throws: ToolInputError.self) { try RouteInput.host("a b.example.com") }
        #expect(throws: ToolInputError.self) { try RouteInput.identifier("web secure", "entrypoints") }
        #expect(throws: ToolInputError.self) { try RouteInput.path("health") }
    }

    static func request(tls: Bool = false, resolver: String? = nil, health: String? = nil) -> RouteRequest {
        RouteRequest(
            name: "grafana", rule: "Host(`grafana.example.com`)", backends: ["http://grafana:3000"], entryPoints: ["websecure"],
            tls: tls, certResolver: resolver, middlewares: ["secure-headers@file"], healthCheckPath: health)
    }

    @Test func rendersMarkedYAMLThatDecodesBackAndPassesTheChecks() throws {
        let file = ManagedRouteFile(Self.request(tls: true, resolver: "letsencrypt", health: "/api/health"))
        let text = try file.render()
        #expect(ManagedRouteFile.isOwned(text))
        #expect(DynamicConfigChecker.check(text).isEmpty)
        #expect(try YAMLDecoder().decode(ManagedRouteFile.self, from: text) == file)
        let root = try #require(try Yams.load(yaml: text) as? [String: Any])
        let http = try #require(root["http"] as? [String: Any])
        let router = try #require((http["routers"] as? [String: Any])?["mcp-grafana"] as? [String: Any])
        #expect(router["service"] as? String == "mcp-grafana")
        #expect((router["tls"] as? [String: Any])?["certResolver"] as? String == "letsencrypt")
        let service = try #require((http["services"] as? [String: Any])?["mcp-grafana"] as? [String: Any])
        let balancer = try #require(service["loadBalancer"] as? [String: Any])
        #expect((balancer["healthCheck"] as? [String: Any])?["path"] as? String == "/api/health")
    }

    @Test func plainTLSNamesTheDefaultOptionsInsteadOfAnEmptyMap() throws {
        let text = try ManagedRouteFile(Self.request(tls: true)).render()
        #expect(text.contains("options: default"))
        #expect(!text.contains("{}"))
        let plain = try ManagedRouteFile(Self.request()).render()
        #expect(!plain.contains("tls"))
    }

    @Test func findsNameAndRuleCollisions() throws {
        let raw = try JSONDecoder().decode(RawData.self, from: Data(#"""
            {"routers":{"legacy@docker":{"rule":"Host(`grafana.example.com`)","service":"legacy","status":"enabled"},
                        "mcp-grafana@file":{"rule":"Host(`other`)","service":"x","status":"enabled"}},
             "services":{"mcp-grafana@docker":{"status":"enabled"}}}
            """#.utf8))
        let conflicts = CreateRouteTool.findConflicts(Self.request(), raw: raw, definedInFiles: ["mcp-grafana": "handmade.yml"])
        #expect(conflicts.contains { $0.contains("legacy@docker") && $0.contains("shadow") })
        #expect(conflicts.contains { $0.contains("mcp-grafana@docker") })
        #expect(conflicts.contains { $0.contains("mcp-grafana@file") })
        let own = CreateRouteTool.findConflicts(
            RouteRequest(name: "grafana", rule: "Host(`new.example.com`)", backends: ["http://g"], entryPoints: [], tls: false, certResolver: nil, middlewares: [], healthCheckPath: nil),
            raw: try JSONDecoder().decode(RawData.self, from: Data(#"{"routers":{"mcp-grafana@file":{"rule":"Host(`old`)"}}}"#.utf8)),
            definedInFiles: ["mcp-grafana": "mcp-managed/grafana.yml"])
        #expect(own.isEmpty)
    }
}

@Suite struct DynamicConfigCheckerTests {
    @Test func acceptsAUsualSnippet() {
        let yaml = """
            http:
              routers:
                whoami:
                  rule: "Host(`whoami.example.com`)"
                  entryPoints: [websecure]
                  service: whoami
                  middlewares: [secure-headers]
                  tls: {certResolver: letsencrypt}
              services:
                whoami:
                  loadBalancer:
                    servers: [{url: "http://whoami:80"}]
                    healthCheck: {path: /, interval: 10s}
              middlewares:
                secure-headers:
                  headers: {frameDeny: true}
            """
        #expect(DynamicConfigChecker.check(yaml) == [])
    }

    @Test(arguments: [
        ("http:\n  routers:\n    a:\n      rule: Host(`{{ .X }}`)\n      service: s\n", "Go templates"),
        ("http:\n  routers: {}\n", "empty map"),
        ("http:\n  routers:\n    a:\n      rule: Host(`a`)\n      service: s\n      colour: blue\n", "colour"),
        ("http:\n  middlewares:\n    m:\n      notAMiddleware: {a: 1}\n", "unknown middleware type"),
        ("http:\n  services:\n    s:\n      loadBalancer:\n        servers: [{address: x}]\n", "address"),
        ("http:\n  routers:\n    a: [1, 2\n", "YAML syntax error"),
        ("", "empty"),
        ("https:\n  routers:\n    a: {rule: x, service: y}\n", "unknown top-level key"),
        ("http:\n  routers:\n    a:\n      rule:\n      service: s\n", "has no value"),
    ])
    func rejectsWhatTraefikWouldRejectSilently(_ yaml: String, _ expected: String) {
        let problems = DynamicConfigChecker.check(yaml)
        #expect(problems.contains { $0.contains(expected) }, "\(problems)")
    }

    /// Nested aliases (a "billion laughs") expand to 9^9 values from 300 bytes: refused after
    /// counting a bounded number of them, where the walk once took minutes of CPU per call.
    @Test func aliasBombsAreRefusedQuickly() {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
        for level in 1...9 { lines.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]") }
        let problems = DynamicConfigChecker.check(lines.joined(separator: "\n") + "\nhttp:\n  routers:\n    r: {rule: Host(`a`), service: s}\n")
        #expect(problems.count == 1 && problems[0].contains("aliases"), "\(problems)")
        // Aliases in an ordinary file are fine.
        let shared = "x-servers: &servers [{url: \"http://a:80\"}]\nhttp:\n  services:\n    s:\n      loadBalancer:\n        servers: *servers\n"
        #expect(!DynamicConfigChecker.check(shared).contains { $0.contains("aliases") })
    }
}

@Suite struct RuleHostsTests {
    @Test func extractsHostsFromRules() {
        #expect(RuleHosts.hosts(in: "Host(`a.example.com`, `B.example.com`) && PathPrefix(`/x`)") == ["a.example.com", "b.example.com"])
        #expect(RuleHosts.hosts(in: "HostSNI(`db.example.com`) || Host(\"c\")") == ["db.example.com", "c"])
        #expect(RuleHosts.hosts(in: "HostRegexp(`^.+$`)") == [])
    }

    @Test func matchesWildcardsOneLabelDeep() {
        #expect(RuleHosts.matches("*.example.com", host: "a.example.com"))
        #expect(!RuleHosts.matches("*.example.com", host: "a.b.example.com"))
        #expect(!RuleHosts.matches("*.example.com", host: "example.com"))
        #expect(RuleHosts.matches("A.example.com", host: "a.example.com"))
    }
}
