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
import Synchronization
import Testing
import TestSupport

@testable import {{Name}}Shard

/// The {{title}} shard against a small stand-in for {{title}} (a JSON status page and a docs
/// page): tools, annotations, health, bad settings and an unreachable {{title}}.
@Suite struct {{Name}}ShardTests {
    /// The `Authorization` headers the stand-in received.
    final class SeenTokens: Sendable {
        let values = Mutex<[String]>([])
    }

    /// Serves `/status` (JSON with a version; 401 without the right token) and `/docs/` (HTML).
    static func standIn(seenTokens: SeenTokens = SeenTokens()) -> some ApplicationProtocol {
        let router = Router()
        router.get("/status") { request, _ in
            let authorization = request.headers[.authorization] ?? ""
            seenTokens.values.withLock { $0.append(authorization) }
            guard authorization == "Bearer test-token" else { return Response(status: .unauthorized) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"version":"1.2.3","status":"ok"}"#)))
        }
        router.get("/docs/") { _, _ in
            Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "<html><title>{{title}} docs</title><body><main><h1>Overview</h1><p>What {{title}} does.</p><h2>Setup</h2><p>How to set it up.</p></main></body></html>")))
        }
        return Application(router: router)
    }

    static func settings(url: String, docsURL: String = "", token: String? = "test-token") -> {{Name}}Settings {
        {{Name}}Settings(
            shard: ShardSettings(listen: .init(host: "127.0.0.1", port: 0)), url: url, statusPath: "/status", apiToken: token,
            requestTimeout: .seconds(2), docsURL: docsURL)
    }

    static func call(_ name: String, _ arguments: [String: Value] = [:], settings: {{Name}}Settings) async throws -> CallTool.Result {
        let definition = {{Name}}Shard.definition(settings: settings, http: .shared, logger: Logger(label: "test"))
        let tool = try #require(definition.tools.first { $0.name == name })
        return try await tool.handler.call(ToolArguments(arguments))
    }

    static func object(_ result: CallTool.Result) throws -> [String: Any] {
        #expect(result.isError != true, "\(result.text)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.text.utf8)) as? [String: Any])
    }

    @Test func theShardServesAnnotatedReadOnlyToolsAndReportsHealth() async throws {
        try await ClosedPort.with { closed in
            let app = {{Name}}Shard.build(settings: Self.settings(url: "http://127.0.0.1:\(closed)"), http: .shared, logger: Logger(label: "test"))
            try await app.test(.router) { client in
                let manifest = try await client.execute(uri: "/manifest", method: .get) { response in
                    try JSONDecoder().decode(ShardManifest.self, from: Data(response.body.readableBytesView))
                }
                #expect(manifest.name == "{{name}}")
                #expect(manifest.tools.map(\.name) == ["get_{{name_snake}}_status", "get_{{name_snake}}_docs"])
                for tool in manifest.tools {
                    #expect(tool.annotations.readOnlyHint == true, "\(tool.name) is read-only")
                    #expect(tool.description?.count ?? 0 > 60, "\(tool.name) has a real description")
                    #expect(ToolNaming.isValid(ToolNaming.qualifiedName(shard: manifest.name, tool: tool.name)))
                }
                let health = try await client.execute(uri: "/health", method: .get) { response in
                    try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
                }
                #expect(health["status"] as? String == "degraded")
                let component = try #require((health["components"] as? [[String: Any]])?.first)
                #expect(component["name"] as? String == "{{name}}-api" && component["status"] as? String == "unhealthy")
                #expect((component["last_error"] as? String ?? "").contains("cannot be reached"))
            }
        }
    }

    @Test func statusReportsVersionAndSendsTheTokenWithoutShowingIt() async throws {
        let seen = SeenTokens()
        try await Self.standIn(seenTokens: seen).test(.live) { client in
            let base = "http://127.0.0.1:\(client.port ?? 0)"
            let result = try await Self.call("get_{{name_snake}}_status", settings: Self.settings(url: base))
            let status = try Self.object(result)
            #expect(status["reachable"] as? Bool == true)
            #expect(status["httpStatus"] as? Int == 200)
            #expect(status["version"] as? String == "1.2.3")
            #expect(!result.text.contains("test-token"))
            #expect(seen.values.withLock { $0 } == ["Bearer test-token"])

            let refused = try Self.object(try await Self.call("get_{{name_snake}}_status", settings: Self.settings(url: base, token: "wrong")))
            #expect((refused["problem"] as? String ?? "").contains("HTTP 401"))
        }
    }

    @Test func anUnreachableServiceIsAClearAnswerNotACrash() async throws {
        try await ClosedPort.with { closed in
            let status = try Self.object(try await Self.call("get_{{name_snake}}_status", settings: Self.settings(url: "http://127.0.0.1:\(closed)")))
            #expect(status["reachable"] as? Bool == false)
            #expect((status["problem"] as? String ?? "").contains("{{NAME}}_URL"))
        }
    }

    @Test func docsAreFetchedCachedAndExplainedWhenMissing() async throws {
        try await Self.standIn().test(.live) { client in
            let settings = Self.settings(url: "http://127.0.0.1:1", docsURL: "http://127.0.0.1:\(client.port ?? 0)/docs/")
            let page = try Self.object(try await Self.call("get_{{name_snake}}_docs", ["topic": "overview", "focus": "setup"], settings: settings))
            #expect(page["title"] as? String == "{{title}} docs")
            #expect((page["text"] as? String ?? "").contains("How to set it up."))

            // Bad input is a ToolInputError; the kit turns it into an `isError` result the model reads.
            await #expect { try await Self.call("get_{{name_snake}}_docs", ["topic": "no such topic"], settings: settings) } throws: { error in
                error is ToolInputError && "\(error)".contains("Known topics: overview")
            }
        }
        let unconfigured = try await Self.call("get_{{name_snake}}_docs", ["topic": "overview"], settings: Self.settings(url: "http://127.0.0.1:1"))
        #expect(unconfigured.isError == true && unconfigured.text.contains("{{NAME}}_DOCS_URL"))
    }

    @Test func settingsRefuseBadValuesNamingTheVariable() throws {
        #expect { try {{Name}}Settings(config: ServiceConfig(environment: ["{{NAME}}_URL": "{{name}}:8080"])) } throws: { error in
            (error as? ConfigurationError)?.variable == "{{NAME}}_URL"
        }
        let settings = try {{Name}}Settings(config: ServiceConfig(environment: ["{{NAME}}_URL": "http://{{name}}.lan:8080/", "{{NAME}}_API_TOKEN": "s3cret"]))
        #expect(settings.url == "http://{{name}}.lan:8080" && settings.apiToken == "s3cret")
        #expect(settings.shard.listen.port == {{Name}}Settings.defaultPort)
        let names = Set({{Name}}Settings.declared.map(\.name))
        #expect(names.isSuperset(of: ["{{NAME}}_URL", "{{NAME}}_API_TOKEN", "{{NAME}}_DOCS_URL", "PORT", "HOST"]))
    }
}
