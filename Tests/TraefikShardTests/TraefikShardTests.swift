import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MCP
import MCPShared
import ServiceKit
import ShardKit
import Testing
import TestSupport

@testable import TraefikShard

/// The shard as a whole: its tools, their annotations, its health and its settings.
@Suite struct TraefikShardTests {
    @Test func theShardServesNineAnnotatedToolsAndReportsTraefikInHealth() async throws {
        try await ClosedPort.with { closed in
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("traefik-shard-\(UUID().uuidString)").path
            let settings = TraefikSettings(
                shard: ShardSettings(listen: .init(host: "127.0.0.1", port: 0)), apiURL: "http://127.0.0.1:\(closed)/api", dynamicDirectory: dir)
            let app = TraefikShard.build(settings: settings, http: .shared, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                let manifest = try await client.execute(uri: "/manifest", method: .get) { response in
                    try JSONDecoder().decode(ShardManifest.self, from: Data(response.body.readableBytesView))
                }
                #expect(manifest.tools.map(\.name) == [
                    "get_traefik_status", "list_routes", "create_route", "delete_route", "validate_config", "get_backend_status", "check_ssl_status",
                    "reload_config", "get_traefik_docs",
                ])
                for tool in manifest.tools {
                    #expect(tool.annotations.readOnlyHint != nil, "\(tool.name) declares readOnlyHint")
                    #expect(tool.description?.count ?? 0 > 60, "\(tool.name) has a real description")
                }
                let destructive = Set(manifest.tools.filter { $0.annotations.destructiveHint == true }.map(\.name))
                #expect(destructive == ["create_route", "delete_route"])
                let health = try await client.execute(uri: "/health", method: .get) { response in
                    try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
                }
                #expect(health["status"] as? String == "degraded")
                let component = try #require((health["components"] as? [[String: Any]])?.first)
                #expect(component["name"] as? String == "traefik-api" && component["status"] as? String == "unhealthy")
                #expect((component["last_error"] as? String ?? "").contains("cannot be reached"))
            }
        }
    }

    @Test func settingsRefuseBadValuesNamingTheVariable() {
        #expect { try TraefikSettings(config: ServiceConfig(environment: ["TRAEFIK_API_URL": "traefik:8080"])) } throws: { error in
            (error as? ConfigurationError)?.variable == "TRAEFIK_API_URL"
        }
        #expect { try TraefikSettings(config: ServiceConfig(environment: ["TRAEFIK_HTTPS_ADDR": "nohost"])) } throws: { error in
            (error as? ConfigurationError)?.variable == "TRAEFIK_HTTPS_ADDR"
        }
        #expect { try TraefikSettings(config: ServiceConfig(environment: ["TRAEFIK_APPLY_TIMEOUT": "0.2"])) } throws: { error in
            (error as? ConfigurationError)?.variable == "TRAEFIK_APPLY_TIMEOUT"
        }
        let names = Set(TraefikSettings.declared.map(\.name))
        #expect(names.isSuperset(of: ["TRAEFIK_API_URL", "TRAEFIK_DYNAMIC_DIR", "TRAEFIK_APPLY_TIMEOUT", "TRAEFIK_VALIDATOR", "TRAEFIK_HTTPS_ADDR", "TRAEFIK_DOCS_URL", "PORT", "HOST"]))
    }
}
