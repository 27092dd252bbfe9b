import Foundation
import Logging
import MCPShared
import ServiceKit
import Testing

@testable import Discovery

@Suite("Discovery: labels, addresses, static file, settings, registry")
struct DiscoveryTests {
    static func container(labels: [String: String], networks: [String: String] = ["homelab_default": "172.18.0.5"]) -> DockerContainer {
        DockerContainer(
            id: String(repeating: "a", count: 64), names: ["/homelab-fx-1"], labels: labels, state: "running",
            networks: networks.mapValues { DockerEndpointSettings(ipAddress: $0) })
    }

    @Test func labelsWithDefaults() throws {
        let reader = LabelReader(prefix: "mcp", preferredNetwork: nil)
        let container = Self.container(labels: ["mcp.enable": "true", "com.docker.compose.service": "Weather"])
        #expect(reader.isEnabled(container))
        let candidate = try reader.candidate(for: container)
        #expect(candidate.name == "weather")
        #expect(candidate.endpoint == "http://172.18.0.5:8080/mcp")
        #expect(candidate.type == "shard")
        #expect(candidate.capabilities == ["tools"])
        #expect(candidate.containerID == container.id)
    }

    @Test func customPrefixAndEveryLabel() throws {
        let reader = LabelReader(prefix: "homelab.mcp", preferredNetwork: nil)
        let container = Self.container(labels: [
            "homelab.mcp.enable": "TRUE", "homelab.mcp.name": "notes", "homelab.mcp.port": "9000", "homelab.mcp.path": "rpc",
            "homelab.mcp.type": "fastmcp", "homelab.mcp.capabilities": "tools, prompts", "homelab.mcp.description": "Notes",
        ])
        let candidate = try reader.candidate(for: container)
        #expect(candidate.endpoint == "http://172.18.0.5:9000/rpc")
        #expect(candidate.type == "fastmcp")
        #expect(candidate.capabilities == ["tools", "prompts"])
        #expect(candidate.description == "Notes")
        #expect(!LabelReader(prefix: "mcp", preferredNetwork: nil).isEnabled(container))
    }

    @Test func addressPrefersLabelThenGatewayNetworkThenFirst() {
        let networks = ["homelab_backend": "10.0.1.2", "homelab_frontend": "10.0.2.2", "bridge": "172.17.0.2"]
        let plain = Self.container(labels: ["mcp.enable": "true"], networks: networks)
        #expect(LabelReader(prefix: "mcp", preferredNetwork: nil).address(of: plain) == "172.17.0.2")
        #expect(LabelReader(prefix: "mcp", preferredNetwork: "homelab_frontend").address(of: plain) == "10.0.2.2")
        #expect(LabelReader(prefix: "mcp", preferredNetwork: "frontend").address(of: plain) == "10.0.2.2")
        // mcp.network wins, and Compose's project prefix may be left out.
        let labelled = Self.container(labels: ["mcp.enable": "true", "mcp.network": "backend"], networks: networks)
        #expect(LabelReader(prefix: "mcp", preferredNetwork: "homelab_frontend").address(of: labelled) == "10.0.1.2")
        let none = Self.container(labels: ["mcp.enable": "true"], networks: ["host": ""])
        #expect(LabelReader(prefix: "mcp", preferredNetwork: nil).address(of: none) == nil)
    }

    @Test func badLabelsAreNamed() {
        let reader = LabelReader(prefix: "mcp", preferredNetwork: nil)
        for (labels, fragment) in [
            (["mcp.enable": "true", "mcp.port": "http"], "mcp.port"),
            (["mcp.enable": "true", "mcp.name": "has space"], "mcp.name"),
        ] {
            #expect {
                try reader.candidate(for: Self.container(labels: labels))
            } throws: { "\($0)".contains(fragment) && "\($0)".contains("homelab-fx-1") }
        }
        #expect(throws: (any Error).self) { try reader.candidate(for: Self.container(labels: ["mcp.enable": "true"], networks: [:])) }
    }

    @Test func decodesTheEngineListFormat() throws {
        let json = """
            [{"Id":"\(String(repeating: "b", count: 64))","Names":["/fx"],"Image":"x","State":"running","Status":"Up 1 second",
              "Labels":{"mcp.enable":"true"},"NetworkSettings":{"Networks":{"n":{"IPAddress":"10.1.1.1","Aliases":["fx"],"DNSNames":["fx"],"NetworkID":"z"}}},
              "Extra":{"ignored":true}}]
            """
        let containers = try JSONDecoder().decode([DockerContainer].self, from: Data(json.utf8))
        #expect(containers.first?.name == "fx")
        #expect(containers.first?.networks["n"]?.ipAddress == "10.1.1.1")
        let event = try JSONDecoder().decode(DockerEvent.self, from: Data(#"{"Type":"container","Action":"health_status: healthy","Actor":{"ID":"abc","Attributes":{"name":"fx"}},"scope":"local","time":1,"timeNano":1000000000}"#.utf8))
        #expect(event.action.hasPrefix("health_status"))
    }

    @Test func staticFile() throws {
        let servers = try StaticServers.parse(
            """
            servers:
              - name: N8N
                endpoint: http://n8n.lan:5678/mcp/abc
                type: n8n
                capabilities: [tools]
              - name: other
                endpoint: https://other.example/mcp
            """, path: "static.yaml")
        #expect(servers.map(\.name) == ["n8n", "other"])
        #expect(servers[0].type == "n8n" && servers[1].type == "static")
        #expect(servers.allSatisfy { $0.source == .file })
        #expect(throws: ConfigurationError.self) { try StaticServers.parse("servers:\n  - name: x\n    endpoint: ftp://x\n", path: "s") }
        #expect(throws: ConfigurationError.self) { try StaticServers.parse("servers:\n  - {name: a, endpoint: 'http://a/mcp'}\n  - {name: a, endpoint: 'http://b/mcp'}\n", path: "s") }
        #expect(throws: ConfigurationError.self) { try StaticServers.parse("servers: 5", path: "s") }
    }

    @Test func dockerHostAndVersions() throws {
        #expect(try DockerEndpoint("unix:///var/run/docker.sock").url("/_ping") == "http+unix://%2Fvar%2Frun%2Fdocker%2Esock/_ping")
        #expect(try DockerEndpoint("tcp://docker-socket-proxy:2375").url("/v1.50/events") == "http://docker-socket-proxy:2375/v1.50/events")
        #expect(throws: ConfigurationError.self) { try DockerEndpoint("ssh://host") }
        #expect(throws: ConfigurationError.self) { try DockerEndpoint("unix://relative.sock") }
        #expect(APIVersion("1.9")! < APIVersion("1.10")!)
        #expect(Swift.min(DockerClient.maximumVersion, APIVersion("1.52")!) == APIVersion(1, 50))
        #expect(APIVersion("v1") == nil)
        let filters = try DockerClient.filters(["label": ["mcp.enable=true"]])
        #expect(filters.removingPercentEncoding == #"{"label":["mcp.enable=true"]}"#)
    }

    @Test func settingsDefaultsAndErrors() throws {
        let settings = try DiscoverySettings(config: ServiceConfig(environment: [:]))
        #expect(settings.listen.port == 9120)
        #expect(settings.dockerHost == "unix:///var/run/docker.sock")
        #expect(settings.labelPrefix == "mcp")
        #expect(settings.relistInterval == .seconds(30))
        #expect(settings.databaseURL == nil && settings.redisURL == nil)
        #expect(try DiscoverySettings(config: ServiceConfig(environment: ["DOCKER_HOST": "none"])).dockerHost == nil)
        for (variable, value) in [("DOCKER_HOST", "ftp://x"), ("DISCOVERY_INTERVAL", "0"), ("REDIS_URL", "redis://:pw@/1"), ("PR_AUTOMATION_URL", "nope"), ("DISCOVERY_LABEL_PREFIX", "a b")] {
            #expect {
                try DiscoverySettings(config: ServiceConfig(environment: [variable: value]))
            } throws: { ($0 as? ConfigurationError)?.variable == variable && !"\($0)".contains(":pw@") }
        }
        let declared = Set(DiscoverySettings.declared.map(\.name))
        #expect(declared.isSuperset(of: ["DOCKER_HOST", "DISCOVERY_STATIC", "DATABASE_URL", "REDIS_URL", "PR_AUTOMATION_URL", "DISCOVERY_LABEL_PREFIX"]))
    }

    @Test func registryTracksSourcesHealthAndGoneServers() async throws {
        let registry = Registry(logger: Logger(label: "test"), removeGrace: .milliseconds(50))
        let docker = ServerCandidate(name: "fx", endpoint: "http://10.0.0.2:8080/mcp", type: "shard", capabilities: ["tools"], source: .docker(containerID: "abc123"))
        let file = ServerCandidate(name: "flows", endpoint: "http://n8n/mcp", type: "n8n", capabilities: ["tools"], source: .file)
        let version = registry.signal.version
        await registry.replace(source: { $0.source == .file }, with: [file])
        await registry.replace(source: { $0.containerID != nil }, with: [docker, ServerCandidate(name: "flows", endpoint: "http://clash/mcp", type: "x", capabilities: [], source: .docker(containerID: "def"))])
        #expect(registry.signal.version > version)
        #expect(await registry.records(includeGone: false).map(\.endpoint) == ["http://n8n/mcp", "http://10.0.0.2:8080/mcp"])
        #expect(await registry.servable.isEmpty)  // nothing checked yet
        #expect(Set(await registry.dueForCheck(interval: .seconds(10)).map(\.name)) == ["fx", "flows"])

        await registry.recordCheck(docker, result: HealthCheckResult(outcome: .healthy(toolCount: 4, capabilities: ["tools", "prompts"]), latencyMs: 3))
        #expect(await registry.servable.map(\.name) == ["fx"])
        #expect(await registry.servable.first?.capabilities == ["tools", "prompts"])
        #expect(await registry.dueForCheck(interval: .seconds(10)).map(\.name) == ["flows"])

        await registry.containerStopped(id: "abc123", action: "die")
        #expect(await registry.servable.isEmpty)
        #expect(await registry.records(includeGone: true).first { $0.name == "fx" }?.metadata["last_error"] == "container die")
        try await Task.sleep(for: .milliseconds(100))
        await registry.pruneGone()
        #expect(await registry.records(includeGone: true).map(\.name) == ["flows"])
    }
}
