import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MCP
import MCPShared
import NIOCore
import ServiceKit
import ShardKit
import Testing
import TestSupport

@testable import TraefikShard

/// The API client against small stand-in servers: garbage, errors, slowness and a closed port
/// must all become a `TraefikAPIError` with a clear sentence.
@Suite struct TraefikAPITests {
    static func standIn() -> some ApplicationProtocol {
        let router = Router()
        router.get("/ok/api/rawdata") { _, _ in
            Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"routers":{"whoami@file":{"rule":"Host(`w.example.com`)","service":"whoami","status":"disabled","error":["the service \"whoami@file\" does not exist"],"priority":9223372036854775806}}}"#)))
        }
        router.get("/garbage/api/rawdata") { _, _ in "<html>It works!</html>" }
        router.get("/broken/api/rawdata") { _, _ in Response(status: .internalServerError, body: .init(byteBuffer: ByteBuffer(string: "boom"))) }
        router.get("/slow/api/rawdata") { _, _ in
            try await Task.sleep(for: .seconds(2))
            return "{}"
        }
        return Application(router: router)
    }

    static func api(_ base: String, timeout: Duration = .seconds(5)) -> TraefikAPI {
        TraefikAPI(baseURL: base, client: .shared, timeout: timeout)
    }

    @Test func decodesRawDataAndExplainsEveryFailure() async throws {
        // The live test framework binds its own free port on localhost.
        try await Self.standIn().test(.live) { client in
            let base = "http://localhost:\(client.port ?? 0)"
            let raw = try await Self.api(base + "/ok/api").rawData()
            let router = try #require(raw.routers["whoami@file"])
            #expect(router.status == "disabled" && router.hosts == ["w.example.com"])
            #expect(router.error == ["the service \"whoami@file\" does not exist"])

            await #expect { try await Self.api(base + "/garbage/api").rawData() } throws: { error in
                "\(error)".contains("not the JSON Traefik sends") && "\(error)".contains("It works!")
            }
            await #expect { try await Self.api(base + "/broken/api").rawData() } throws: { error in
                "\(error)".contains("HTTP 500") && "\(error)".contains("boom")
            }
            await #expect { try await Self.api(base + "/slow/api", timeout: .milliseconds(300)).rawData() } throws: { error in
                "\(error)".contains("did not answer within")
            }
        }
        try await ClosedPort.with { closed in
            await #expect { try await Self.api("http://127.0.0.1:\(closed)/api", timeout: .seconds(2)).rawData() } throws: { error in
                "\(error)".contains("cannot be reached")
            }
        }
    }
}

@Suite struct ManagedFilesTests {
    @Test func writesAtomicallyTriggersAndFindsDefinedNames() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("traefik-files-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "http:\n  routers:\n    legacy: {rule: Host(`l`), service: s}\n".write(toFile: dir + "/base.yml", atomically: true, encoding: .utf8)
        let files = ManagedFiles(dynamicDirectory: dir)
        try FileManager.default.createDirectory(atPath: dir + "/mcp-managed", withIntermediateDirectories: true)
        let stale = dir + "/mcp-managed/.old.1234.tmp"
        _ = FileManager.default.createFile(atPath: stale, contents: Data("x".utf8), attributes: [.modificationDate: Date(timeIntervalSinceNow: -600)])
        try files.write("grafana", "# managed-by: homelab-mcp traefik-shard\nhttp:\n  routers:\n    mcp-grafana: {rule: Host(`g`), service: mcp-grafana}\n")
        try files.write("grafana", "# managed-by: homelab-mcp traefik-shard\nhttp:\n  routers:\n    mcp-grafana: {rule: Host(`g2`), service: mcp-grafana}\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/mcp-managed") == ["grafana.yml"])
        #expect(files.read("grafana")?.contains("g2") == true)
        #expect(files.managedNames() == ["grafana"])
        #expect(files.definedNames() == ["legacy": "base.yml", "mcp-grafana": "mcp-managed/grafana.yml"])
        try files.triggerReload()
        #expect(FileManager.default.fileExists(atPath: dir + "/.mcp-reload-trigger"))
        try files.remove("grafana")
        #expect(files.managedNames().isEmpty)
    }
}
