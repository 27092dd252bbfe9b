import Foundation
import JWTKit
import Logging
import NIOHTTP1

/// Where the bearer token for repository requests comes from.
public protocol GitHubCredentials: Sendable {
    func token(client: GitHubClient) async throws -> String
    /// Drops a cached token after a 401; true when a fresh one can be fetched.
    func invalidate() async -> Bool
}

/// A fine-grained personal access token (`GITHUB_TOKEN`), used as it is: its format is GitHub's business.
struct StaticTokenCredentials: GitHubCredentials {
    let token: String

    func token(client: GitHubClient) async throws -> String { token }
    func invalidate() async -> Bool { false }
}

/// GitHub App authentication: an RS256 JWT buys an installation token (valid one hour), cached
/// until five minutes before it expires.
actor AppInstallationCredentials: GitHubCredentials {
    let signer: AppJWTSigner
    let repository: RepositoryName
    private var installationID: Int?
    private var cached: (token: String, expiresAt: Date)?
    /// Concurrent callers share one token request.
    private var pending: Task<(token: String, expiresAt: Date), any Error>?
    static let refreshMargin: TimeInterval = 300

    init(signer: AppJWTSigner, installationID: Int?, repository: RepositoryName) {
        self.signer = signer
        self.installationID = installationID
        self.repository = repository
    }

    func token(client: GitHubClient) async throws -> String {
        if let cached, cached.expiresAt.timeIntervalSinceNow > Self.refreshMargin { return cached.token }
        if let pending { return try await pending.value.token }
        let task = Task { try await self.fetch(client: client) }
        pending = task
        defer { pending = nil }
        let fresh = try await task.value
        cached = fresh
        return fresh.token
    }

    func invalidate() async -> Bool {
        cached = nil
        return true
    }

    private func fetch(client: GitHubClient) async throws -> (token: String, expiresAt: Date) {
        let jwt = try await signer.sign()
        let id: Int
        if let installationID {
            id = installationID
        } else {
            let installation: Installation = try await client.json(.GET, "/repos/\(repository.owner)/\(repository.name)/installation", auth: .bearer(jwt))
            installationID = installation.id
            id = installation.id
        }
        let answer: AccessToken = try await client.json(.POST, "/app/installations/\(id)/access_tokens", auth: .bearer(jwt))
        client.logger.debug("GitHub App installation token obtained", metadata: ["installation_id": "\(id)", "expires_at": "\(answer.expiresAt)"])
        return (answer.token, answer.expiresAt)
    }

    struct Installation: Decodable { let id: Int }

    struct AccessToken: Decodable {
        let token: String
        let expiresAt: Date
        enum CodingKeys: String, CodingKey {
            case token
            case expiresAt = "expires_at"
        }
    }
}

/// Signs the App's JWT: RS256, `iat` 60 s in the past (clock drift), `exp` 9 minutes ahead
/// (GitHub allows at most 10), `iss` the App ID or client ID.
public struct AppJWTSigner: Sendable {
    public let appID: String
    let key: Insecure.RSA.PrivateKey

    public init(appID: String, privateKeyPEM: String) throws {
        self.appID = appID
        self.key = try Insecure.RSA.PrivateKey(pem: privateKeyPEM)
    }

    /// A new JWT; called about once an hour, so the key collection is built each time.
    public func sign(now: Date = Date()) async throws -> String {
        let keys = await JWTKeyCollection().add(rsa: key, digestAlgorithm: .sha256)
        let claims = AppJWTClaims(
            iat: IssuedAtClaim(value: Date(timeIntervalSince1970: (now.timeIntervalSince1970 - 60).rounded(.down))),
            exp: ExpirationClaim(value: Date(timeIntervalSince1970: (now.timeIntervalSince1970 + 540).rounded(.down))),
            iss: IssuerClaim(value: appID))
        return try await keys.sign(claims)
    }
}

/// The three claims GitHub reads from an App JWT.
public struct AppJWTClaims: JWTPayload, Equatable {
    public var iat: IssuedAtClaim
    public var exp: ExpirationClaim
    public var iss: IssuerClaim

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}
