import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceKit
import Testing

@testable import ModelRouter

/// The real application over HummingbirdTesting (no upstream is called by these requests).
@Suite struct RouterAppTests {
    func withApp(_ test: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("router-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let configPath = dir.appendingPathComponent("router.yaml").path
        try """
            model_list:
              - model_name: local
                litellm_params: {model: ollama_chat/llama3.2, api_base: "http://127.0.0.1:1"}
              - model_name: claude-sonnet
                litellm_params: {model: anthropic/claude-sonnet-4-5, api_key: os.environ/ANTHROPIC_API_KEY}
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let settings = try RouterSettings(
            config: ServiceConfig(environment: ["PORT": "0", "ROUTER_CONFIG": configPath, "ROUTER_MASTER_KEY": "master-secret", "ROUTER_SQLITE_PATH": dir.appendingPathComponent("u.sqlite").path]),
            environment: [:])
        let app = try await RouterApplication.build(settings: settings, logger: Logger(label: "test"))
        try await app.test(.router) { client in try await test(client) }
    }

    static let auth: HTTPFields = [.authorization: "Bearer master-secret"]

    @Test func modelsListsNamesAndAuto() async throws {
        try await withApp { client in
            try await client.execute(uri: "/v1/models", method: .get, headers: Self.auth) { response in
                #expect(response.status == .ok)
                let ids = try JSONValue.parse(response.body.readableBytesView)["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
                #expect(ids == ["local", "claude-sonnet", "auto"])
            }
        }
    }

    @Test func wrongKeyIs401InOpenAIShapeWithoutTheKey() async throws {
        try await withApp { client in
            try await client.execute(uri: "/v1/models", method: .get, headers: [.authorization: "Bearer nope"]) { response in
                #expect(response.status == .unauthorized)
                let body = String(buffer: response.body)
                #expect(body.contains("authentication_error") && !body.contains("master-secret"))
            }
        }
    }

    @Test func explainNeedsNoUpstream() async throws {
        try await withApp { client in
            let body = ByteBuffer(string: #"{"model":"auto","messages":[{"role":"user","content":"What is 2+2?"}]}"#)
            try await client.execute(uri: "/v1/route/explain", method: .post, headers: Self.auth, body: body) { response in
                let json = try JSONValue.parse(response.body.readableBytesView)
                #expect(json["model"] == "local" && json["task"] == "simple")
            }
        }
    }

    @Test func badBodiesGet400() async throws {
        try await withApp { client in
            for text in ["{", #"{"model":"local"}"#, #"{"model":"local","messages":[{"role":"user","content":5}]}"#] {
                try await client.execute(uri: "/v1/chat/completions", method: .post, headers: Self.auth, body: ByteBuffer(string: text)) { response in
                    let json = try JSONValue.parse(response.body.readableBytesView)
                    #expect(response.status == .badRequest)
                    #expect(json["error"]?["type"] == "invalid_request_error")
                }
            }
        }
    }

    @Test func missingKeyVariableSkipsDeploymentAndUnreachableLocalIs503() async throws {
        try await withApp { client in
            let body = ByteBuffer(string: #"{"model":"claude-sonnet","messages":[{"role":"user","content":"hello there, friend"}]}"#)
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: Self.auth, body: body) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] != nil)
                let message = try JSONValue.parse(response.body.readableBytesView)["error"]?["message"]?.stringValue ?? ""
                #expect(message.contains("ANTHROPIC_API_KEY"))
            }
        }
    }
}
