import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
@testable import PRAutomation
import ServiceKit
import ServiceLifecycle
import StorageKit
import TestSupport
import Testing

@Suite struct SettingsTests {
    static let base = ["GITHUB_REPOSITORY": "homelab/infra", "GITHUB_TOKEN": "test-token-value"]

    @Test func defaults() throws {
        let settings = try PRAutomationSettings(config: ServiceConfig(environment: Self.base))
        #expect(settings.listen.port == 9130)
        #expect(settings.github.apiURL == "https://api.github.com" && settings.github.baseBranch == nil)
        #expect(settings.github.repository.owner == "homelab" && settings.github.repository.name == "infra")
        #expect(settings.template == .compose && settings.pathTemplate.template == "services/{name}/compose.yaml")
        #expect(settings.databaseURL == nil)
        guard case .token = settings.github.auth else { Issue.record("expected token auth"); return }
    }

    @Test(arguments: [
        (["GITHUB_REPOSITORY": "infra"], "GITHUB_REPOSITORY"), (["GITHUB_REPOSITORY": "a/b/c"], "GITHUB_REPOSITORY"),
        (["GITHUB_TOKEN": ""], "GITHUB_TOKEN"), (["GITHUB_API_URL": "ftp://x"], "GITHUB_API_URL"),
        (["GITHUB_BASE_BRANCH": "a..b"], "GITHUB_BASE_BRANCH"), (["PR_PATH_TEMPLATE": "x.yaml"], "PR_PATH_TEMPLATE"),
        (["PR_TEMPLATE": "/nonexistent"], "PR_TEMPLATE"), (["GITHUB_APP_ID": "1"], "GITHUB_APP_PRIVATE_KEY_FILE"),
        (["GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY_FILE": "/nonexistent"], "GITHUB_APP_PRIVATE_KEY_FILE"),
        (["GITHUB_MAX_RETRIES": "-1"], "GITHUB_MAX_RETRIES"),
    ])
    func badSettingsNameTheirVariableAndNeverTheToken(_ extra: [String: String], _ variable: String) {
        do {
            _ = try PRAutomationSettings(config: ServiceConfig(environment: Self.base.merging(extra) { $1 }))
            Issue.record("expected a configuration error for \(extra)")
        } catch let error as ConfigurationError {
            #expect(error.variable == variable)
            #expect(!error.description.contains("test-token-value"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func everyVariableReadIsDeclared() {
        let names = Set(PRAutomationSettings.declared.map(\.name))
        for name in ["GITHUB_REPOSITORY", "GITHUB_TOKEN", "GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY_FILE", "GITHUB_APP_INSTALLATION_ID",
                     "GITHUB_BASE_BRANCH", "GITHUB_API_URL", "PR_TEMPLATE", "PR_PATH_TEMPLATE", "DATABASE_URL", "PR_SQLITE_PATH", "PORT"] {
            #expect(names.contains(name), "\(name) is not declared")
        }
        #expect(PRAutomationSettings.declared.filter(\.isSecret).map(\.name).sorted() == ["DATABASE_URL", "GITHUB_APP_PRIVATE_KEY_FILE", "GITHUB_TOKEN"])
    }
}

@Suite struct RateLimitTests {
    let client = GitHubClient(
        settings: GitHubSettings(repository: RepositoryName("a/b")!, auth: .token("t"), secondaryBackoff: 60),
        httpClient: .shared, logger: Logger(label: "test"))

    func response(_ status: Int, _ headers: [(String, String)]) -> GitHubClient.Response {
        GitHubClient.Response(status: status, headers: HTTPHeaders(headers), body: Data())
    }

    @Test func readsGitHubsRateLimitAnswers() throws {
        #expect(client.rateLimitWait(response(429, [("retry-after", "7")]), message: "", attempt: 0) == 7)
        let reset = Date().timeIntervalSince1970 + 30
        let wait = try #require(client.rateLimitWait(response(403, [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", String(Int(reset)))]), message: "", attempt: 0))
        #expect(wait > 28 && wait <= 31)
        #expect(client.rateLimitWait(response(403, []), message: "You have exceeded a secondary rate limit", attempt: 2) == 240)
        #expect(client.rateLimitWait(response(429, []), message: "", attempt: 0) == 60)
        // A plain 403 is a missing permission, not a limit: no waiting.
        #expect(client.rateLimitWait(response(403, [("x-ratelimit-remaining", "4999")]), message: "Resource not accessible by integration", attempt: 0) == nil)
        #expect(client.rateLimitWait(response(500, [("retry-after", "1")]), message: "", attempt: 0) == nil)
    }

    @Test func errorMessagesIncludeGitHubsDetails() {
        let body = Data(#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for a:b."}]}"#.utf8)
        #expect(GitHubClient.message(in: body) == "Validation Failed (A pull request already exists for a:b.)")
        #expect(GitHubClient.message(in: Data("<html>".utf8)) == "<html>")
    }
}

@Suite struct RecordStoreTests {
    @Test func sqliteStoreUpsertsAndKeepsCreation() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pr-\(UUID().uuidString)/records.sqlite").path
        let logger = Logger(label: "test")
        let database = SQLiteDatabase(path: path, logger: logger)
        // The database is a service: running it in a group is what closes its connection at the end.
        let group = ServiceGroup(services: [database], logger: logger)
        async let running: Void = group.run()
        let store = DatabasePRRecordStore(database: database, repository: RepositoryName("homelab/infra")!, logger: logger)
        let other = DatabasePRRecordStore(database: database, repository: RepositoryName("homelab/other")!, logger: logger)
        let created = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down) - 3600)
        try await store.save(PRRecord(service: "dozzle", fingerprint: "f1", branch: "auto/add-mcp-dozzle", path: "services/dozzle/compose.yaml", prNumber: 1, url: "u", state: .open, createdAt: created, updatedAt: created))
        try await store.save(PRRecord(service: "dozzle", fingerprint: "f2", branch: "auto/add-mcp-dozzle", path: "services/dozzle/compose.yaml", prNumber: 1, url: "u", state: .declined, createdAt: Date(), updatedAt: Date()))
        try await store.save(PRRecord(service: "adguard", fingerprint: "f3", branch: "auto/add-mcp-adguard", path: "p", prNumber: nil, url: nil, state: .none))
        let dozzle = try #require(try await store.find(service: "dozzle"))
        #expect(dozzle.fingerprint == "f2" && dozzle.state == .declined && dozzle.createdAt == created && dozzle.updatedAt > created)
        #expect(try await store.all().map(\.service) == ["adguard", "dozzle"])
        #expect(try await store.find(service: "adguard")?.prNumber == nil)
        #expect(try await other.all().isEmpty)
        await group.triggerGracefulShutdown()
        try await running
    }
}

@Suite struct APITests {
    static func settings() throws -> PRAutomationSettings {
        // A closed port: the startup record recovery fails quietly and retries; dry runs never call GitHub.
        try PRAutomationSettings(
            listen: ListenSettings(host: "127.0.0.1", port: 0),
            github: GitHubSettings(apiURL: "http://127.0.0.1:\(TestSupport.FreePort.next())", repository: RepositoryName("homelab/infra")!, auth: .token("t")),
            pathTemplate: ManifestPath("services/{name}/compose.yaml"))
    }

    @Test func dryRunRendersAndBadInputIsA400() async throws {
        let app = try await PRAutomationApplication.build(settings: Self.settings(), logger: Logger(label: "test"), store: InMemoryPRRecordStore())
        try await app.test(.router) { client in
            let body = #"{"server_name":"dozzle","type":"shard","endpoint":"http://dozzle-shard:9140/mcp","capabilities":["tools"],"dry_run":true}"#
            try await client.execute(uri: "/api/v1/create-pr", method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                let result = try JSONDecoder().decode(PRResult.self, from: Data(response.body.readableBytesView))
                #expect(result.operation == .dryRun && result.branch == "auto/add-mcp-dozzle" && result.prNumber == nil)
                #expect(result.files?.first?.path == "services/dozzle/compose.yaml")
                #expect(result.files?.first?.content.contains("mcp.port: \"9140\"") == true)
            }
            try await client.execute(uri: "/api/v1/create-pr", method: .post, body: ByteBuffer(string: #"{"server_name":"../x","endpoint":"http://a/mcp"}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("server_name"))
            }
            try await client.execute(uri: "/api/v1/prs", method: .get) { response in
                #expect(response.status == .ok && String(buffer: response.body) == #"{"prs":[]}"#)
            }
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
