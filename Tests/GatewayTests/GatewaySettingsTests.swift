import Foundation
@testable import Gateway
import ServiceKit
import Testing

@Suite struct GatewaySettingsTests {
    @Test func parsesStaticShards() throws {
        let settings = try GatewaySettings(config: ServiceConfig(environment: [
            "GATEWAY_SHARDS": "traefik=http://traefik-shard:9110/mcp, dozzle=http://dozzle:8080/mcp",
        ]))
        #expect(settings.staticShards.map(\.name) == ["traefik", "dozzle"])
        #expect(settings.listen.port == 9100 && settings.listen.host == "127.0.0.1")
        #expect(settings.callTimeout == .seconds(60) && settings.probeInterval == .seconds(15))
    }

    @Test(arguments: [
        "traefik", "bad name=http://x/mcp", "x=ftp://host/mcp", "a=http://x/mcp,a=http://y/mcp",
    ])
    func rejectsBadShardLists(_ value: String) {
        #expect(throws: ConfigurationError.self) {
            try GatewaySettings(config: ServiceConfig(environment: ["GATEWAY_SHARDS": value]))
        }
    }

    @Test func configFileIsStrict() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let good = directory.appendingPathComponent("good.yaml")
        try "shards:\n  - name: traefik\n    url: http://traefik-shard:9110/mcp\n".write(to: good, atomically: true, encoding: .utf8)
        #expect(try GatewayConfigFile.load(path: good.path).map(\.name) == ["traefik"])
        let bad = directory.appendingPathComponent("bad.yaml")
        try "shards: [ {name: x" .write(to: bad, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try GatewayConfigFile.load(path: bad.path) }
    }

    @Test func directoryMergesSourcesFirstSourceWinning() async {
        let directory = ShardDirectory()
        await directory.update(source: ShardDirectory.discoverySource, shards: [
            ShardEndpoint(name: "traefik", url: "http://10.0.0.5:9110/mcp"),
            ShardEndpoint(name: "dozzle", url: "http://dozzle:8080/mcp"),
        ])
        await directory.update(source: ShardDirectory.staticSource, shards: [ShardEndpoint(name: "traefik", url: "http://traefik-shard:9110/mcp")])
        let merged = await directory.merged
        #expect(merged.map(\.name) == ["dozzle", "traefik"])
        #expect(merged.last?.url == "http://traefik-shard:9110/mcp")
    }
}
