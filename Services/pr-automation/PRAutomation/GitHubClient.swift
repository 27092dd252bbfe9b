import AsyncHTTPClient
import Foundation
import Logging
import MCPShared
import Metrics
import NIOCore
import NIOHTTP1
import ServiceKit
import Synchronization

/// A GitHub REST client on AsyncHTTPClient that waits out rate limits and retries 5xx.
///
/// Every request carries `Accept: application/vnd.github+json`, `X-GitHub-Api-Version` and a
/// `User-Agent`. Credentials come from a ``GitHubCredentials``; they are never logged.
///
/// ```swift
/// let client = GitHubClient(settings: settings.github, httpClient: .shared, logger: logger)
/// let repo: GitHubRepository = try await client.json(.GET, "/repos/o/r")
/// ```
public final class GitHubClient: Sendable {
    public let settings: GitHubSettings
    let httpClient: HTTPClient
    let logger: Logger
    let credentials: any GitHubCredentials
    /// How the last exchange with GitHub went, for `/health`, which makes no request of its own
    /// (GitHub's rate limits).
    private let lastContact: Mutex<ComponentHealth>
    static let userAgent = "homelab-mcp-pr-automation/" + SuiteVersion.current

    public init(settings: GitHubSettings, httpClient: HTTPClient, logger: Logger) {
        self.settings = settings
        self.httpClient = httpClient
        self.logger = logger
        self.lastContact = Mutex(ComponentHealth(name: "github", status: .unknown, endpoint: settings.apiURL))
        switch settings.auth {
        case .token(let token): self.credentials = StaticTokenCredentials(token: token)
        case .app(let appID, let pem, let installationID):
            // The settings checked the key already; a failure here is a programming error caught by tests.
            let signer = try! AppJWTSigner(appID: appID, privateKeyPEM: pem)
            self.credentials = AppInstallationCredentials(signer: signer, installationID: installationID, repository: settings.repository)
        }
    }

    /// Which credential a request carries.
    public enum Auth: Sendable {
        /// The token for the repository (fine-grained token or App installation token).
        case repository
        /// A given bearer (the App JWT, for the App endpoints).
        case bearer(String)
    }

    public struct Response: Sendable {
        public let status: Int
        public let headers: HTTPHeaders
        public let body: Data
    }

    // MARK: - Requests

    /// Sends a request and decodes a 2xx JSON answer; any other status throws ``GitHubAPIError``.
    public func json<T: Decodable>(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: (any Encodable & Sendable)? = nil, auth: Auth = .repository,
        as type: T.Type = T.self
    ) async throws -> T {
        let response = try await send(method, path, query: query, body: body, auth: auth)
        do {
            return try Self.decoder.decode(T.self, from: response.body)
        } catch {
            throw GitHubAPIError(status: response.status, method: method.rawValue, path: path, message: "GitHub's answer could not be read: \(error)", kind: .unexpected)
        }
    }

    /// GitHub as a `/health` component: unknown until the first request; unhealthy while the last
    /// one found GitHub unreachable, failing, rate-limiting or refusing the credentials.
    public var health: ComponentHealth { lastContact.withLock { $0 } }

    /// Sends a request; 2xx returns, anything else throws ``GitHubAPIError`` after the retries.
    @discardableResult
    public func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: (any Encodable & Sendable)? = nil, auth: Auth = .repository
    ) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await sendWithRetries(method, path, query: query, body: body, auth: auth)
            noteContact(error: nil, started: started)
            return response
        } catch let error as GitHubAPIError {
            // A missing branch or a rejected pull request is GitHub answering, not GitHub failing.
            let failing: Set<GitHubAPIError.Kind> = [.unauthorized, .forbidden, .rateLimited, .server, .unreachable]
            noteContact(error: failing.contains(error.kind) ? error : nil, started: started)
            throw error
        }
    }

    private func noteContact(error: GitHubAPIError?, started: ContinuousClock.Instant) {
        let elapsed = (ContinuousClock.now - started).milliseconds
        lastContact.withLock { contact in
            contact.status = error == nil ? .healthy : .unhealthy
            contact.lastProbe = Date()
            contact.latencyMs = error == nil ? elapsed : nil
            contact.lastError = error.map { "\($0)" }
        }
    }

    private func sendWithRetries(
        _ method: HTTPMethod, _ path: String, query: [(String, String)], body: (any Encodable & Sendable)?, auth: Auth
    ) async throws -> Response {
        let bodyData = try body.map { try Self.encoder.encode($0) }
        var serverRetries = 0
        var rateLimitWaits = 0
        var refreshedCredentials = false
        while true {
            let response: Response
            do {
                response = try await sendOnce(method, path, query: query, body: bodyData, auth: auth)
            } catch let error as GitHubAPIError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                guard serverRetries < settings.maxRetries else {
                    throw GitHubAPIError(status: 0, method: method.rawValue, path: path, message: "GitHub could not be reached at \(settings.apiURL): \(error)", kind: .unreachable)
                }
                let wait = settings.retryBackoff * pow(2, Double(serverRetries))
                serverRetries += 1
                logger.warning("GitHub request failed, retrying", metadata: ["method": "\(method.rawValue)", "path": "\(path)", "error": "\(error)", "wait_s": "\(wait)"])
                try await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
                continue
            }
            if (200..<300).contains(response.status) { return response }
            let message = Self.message(in: response.body)
            if let wait = rateLimitWait(response, message: message, attempt: rateLimitWaits) {
                guard wait <= settings.maxRateLimitWait, rateLimitWaits < 8 else {
                    throw GitHubAPIError(status: response.status, method: method.rawValue, path: path, message: "GitHub's rate limit holds for \(Int(wait.rounded(.up))) s more, longer than GITHUB_MAX_RATE_LIMIT_WAIT (\(Int(settings.maxRateLimitWait)) s): \(message)", kind: .rateLimited)
                }
                rateLimitWaits += 1
                Counter(label: "pr_automation_github_rate_limited_total").increment()
                logger.warning("GitHub rate limit, waiting", metadata: ["method": "\(method.rawValue)", "path": "\(path)", "status": "\(response.status)", "wait_s": "\(wait)"])
                try await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
                continue
            }
            if response.status >= 500, serverRetries < settings.maxRetries {
                let wait = settings.retryBackoff * pow(2, Double(serverRetries))
                serverRetries += 1
                logger.warning("GitHub answered \(response.status), retrying", metadata: ["method": "\(method.rawValue)", "path": "\(path)", "wait_s": "\(wait)"])
                try await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
                continue
            }
            if response.status == 401, case .repository = auth, !refreshedCredentials {
                // An installation token can be revoked or expire early: fetch a fresh one once.
                refreshedCredentials = true
                if await credentials.invalidate() { continue }
            }
            throw GitHubAPIError(status: response.status, method: method.rawValue, path: path, message: message, kind: .init(status: response.status), body: response.body)
        }
    }

    func sendOnce(_ method: HTTPMethod, _ path: String, query: [(String, String)], body: Data?, auth: Auth) async throws -> Response {
        var components = URLComponents()
        components.queryItems = query.isEmpty ? nil : query.map { URLQueryItem(name: $0.0, value: $0.1) }
        let url = settings.apiURL + path + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/vnd.github+json")
        request.headers.add(name: "X-GitHub-Api-Version", value: settings.apiVersion)
        request.headers.add(name: "User-Agent", value: Self.userAgent)
        let bearer: String = switch auth {
        case .repository: try await credentials.token(client: self)
        case .bearer(let token): token
        }
        request.headers.add(name: "Authorization", value: "Bearer \(bearer)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let started = ContinuousClock.now
        let response = try await httpClient.execute(request, timeout: .milliseconds(Int64(settings.requestTimeout * 1000)), logger: nil)
        let bytes = try await response.body.collect(upTo: 16 << 20)
        let status = Int(response.status.code)
        Counter(label: "pr_automation_github_requests_total", dimensions: [("status", String(status))]).increment()
        // Method, path and status only: headers and bodies can hold tokens.
        logger.trace("GitHub request", metadata: [
            "method": "\(method.rawValue)", "path": "\(path)", "status": "\(status)",
            "elapsed": "\(ContinuousClock.now - started)",
            "ratelimit_remaining": "\(response.headers.first(name: "x-ratelimit-remaining") ?? "-")",
        ])
        return Response(status: status, headers: response.headers, body: Data(bytes.readableBytesView))
    }

    // MARK: - Rate limits

    /// Seconds to wait before retrying, when the answer is a rate limit; nil otherwise.
    func rateLimitWait(_ response: Response, message: String, attempt: Int) -> Double? {
        guard response.status == 403 || response.status == 429 else { return nil }
        if let retryAfter = UpstreamDelay.retryAfter(response.headers.first(name: "retry-after")) {
            return retryAfter
        }
        if response.headers.first(name: "x-ratelimit-remaining") == "0",
           let reset = response.headers.first(name: "x-ratelimit-reset").flatMap(Double.init) {
            // One extra second: reset is a whole epoch second and clocks differ.
            return UpstreamDelay.clamped(reset - Date().timeIntervalSince1970 + 1)
        }
        if response.status == 429 || message.localizedCaseInsensitiveContains("secondary rate limit") || message.localizedCaseInsensitiveContains("abuse") {
            return settings.secondaryBackoff * pow(2, Double(attempt))
        }
        return nil  // a plain 403: missing permission
    }

    // MARK: - JSON

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    /// GitHub's `message` (plus the first `errors[].message`), or a short excerpt of the body.
    static func message(in body: Data) -> String {
        struct ErrorBody: Decodable {
            struct Detail: Decodable { let message: String?; let code: String?; let field: String? }
            let message: String?
            let errors: [Detail]?
        }
        guard let parsed = try? JSONDecoder().decode(ErrorBody.self, from: body) else {
            return String(decoding: body.prefix(200), as: UTF8.self)
        }
        var text = parsed.message ?? "no message"
        let details = (parsed.errors ?? []).compactMap { detail in detail.message ?? [detail.field, detail.code].compactMap { $0 }.joined(separator: " ") }
        if !details.isEmpty { text += " (" + details.joined(separator: "; ") + ")" }
        return text
    }
}

/// A GitHub answer the bot could not use, with what it means for a person.
public struct GitHubAPIError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        case unauthorized, forbidden, notFound, conflict, unprocessable, rateLimited, server, unreachable, unexpected

        init(status: Int) {
            switch status {
            case 401: self = .unauthorized
            case 403: self = .forbidden
            case 404: self = .notFound
            case 409: self = .conflict
            case 422: self = .unprocessable
            case 500...: self = .server
            default: self = .unexpected
            }
        }
    }

    public let status: Int
    public let method: String
    public let path: String
    /// GitHub's own message.
    public let message: String
    public let kind: Kind
    public var body: Data = Data()

    public var description: String { "GitHub \(method) \(path) answered \(status): \(message)" }
}
