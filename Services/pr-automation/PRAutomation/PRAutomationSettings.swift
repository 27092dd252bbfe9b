import Foundation
import ServiceKit

/// Everything the PR-automation bot reads from its environment.
public struct PRAutomationSettings: Sendable {
    public var listen: ListenSettings
    public var github: GitHubSettings
    /// `PR_TEMPLATE`: `compose` (built-in), `kubernetes` (built-in) or a template file path.
    public var template: ManifestTemplate
    /// `PR_PATH_TEMPLATE`: where the rendered manifest goes in the repository, with `{name}`.
    public var pathTemplate: ManifestPath
    /// `PR_IMAGE_TEMPLATE`: the container image a rendered manifest names, with `{name}`.
    public var imageTemplate: String
    /// `DATABASE_URL`: PostgreSQL when set; otherwise SQLite at `PR_SQLITE_PATH`.
    public var databaseURL: String?
    public var sqlitePath: String
    public var maxBodyBytes: Int

    public static let defaultPort = 9130

    public init(config: ServiceConfig) throws {
        self.listen = try ListenSettings(config: config, defaultPort: Self.defaultPort)
        self.github = try GitHubSettings(config: config)
        self.template = try ManifestTemplate.load(config.string("PR_TEMPLATE", default: "compose"), variable: "PR_TEMPLATE")
        self.pathTemplate = try ManifestPath(config.string("PR_PATH_TEMPLATE", default: "services/{name}/compose.yaml"), variable: "PR_PATH_TEMPLATE")
        self.imageTemplate = config.string("PR_IMAGE_TEMPLATE", default: "ghcr.io/example/{name}:latest")
        self.databaseURL = try config.secret("DATABASE_URL")
        self.sqlitePath = config.string("PR_SQLITE_PATH", default: "data/pr-automation.sqlite")
        self.maxBodyBytes = try config.int("PR_MAX_BODY_BYTES", default: 64 << 10, range: 1024...(16 << 20))
    }

    public init(
        listen: ListenSettings, github: GitHubSettings, template: ManifestTemplate = .compose,
        pathTemplate: ManifestPath, imageTemplate: String = "ghcr.io/example/{name}:latest",
        databaseURL: String? = nil, sqlitePath: String = ":memory:", maxBodyBytes: Int = 64 << 10
    ) {
        self.listen = listen
        self.github = github
        self.template = template
        self.pathTemplate = pathTemplate
        self.imageTemplate = imageTemplate
        self.databaseURL = databaseURL
        self.sqlitePath = sqlitePath
        self.maxBodyBytes = maxBodyBytes
    }

    /// The variables above, for `.env.example`, the docs and the compose consistency test.
    public static let declared: [SettingSpec] = SettingSpec.common(port: defaultPort) + GitHubSettings.declared + [
        SettingSpec("PR_TEMPLATE", default: "compose", "Manifest template: compose (a Compose service block with the mcp.* discovery labels), kubernetes (Deployment + Service) or the path of a template file."),
        SettingSpec("PR_PATH_TEMPLATE", default: "services/{name}/compose.yaml", "Where the manifest is written in the repository; must contain {name}; nothing is written outside its leading folder."),
        SettingSpec("PR_IMAGE_TEMPLATE", default: "ghcr.io/example/{name}:latest", "Container image a rendered manifest names ({name} is the server name)."),
        SettingSpec("DATABASE_URL", default: "", "PostgreSQL URL for the PR records; unset uses SQLite at PR_SQLITE_PATH.", secret: true),
        SettingSpec("PR_SQLITE_PATH", default: "data/pr-automation.sqlite", "SQLite file for the PR records when DATABASE_URL is unset."),
        SettingSpec("PR_MAX_BODY_BYTES", default: "65536", "Largest request body accepted by the API."),
    ]
}

/// How the bot reaches GitHub: repository, API address, credentials, retry limits.
public struct GitHubSettings: Sendable {
    public var apiURL: String
    public var repository: RepositoryName
    /// `nil`: the repository's default branch.
    public var baseBranch: String?
    public var auth: GitHubAuthSettings
    public var apiVersion: String
    /// Longest single wait the bot accepts for a rate limit before giving up with a clear error.
    public var maxRateLimitWait: Double
    /// First wait after a secondary rate limit without `retry-after` (GitHub asks for at least a minute).
    public var secondaryBackoff: Double
    /// Retries for 5xx answers and connection failures, with exponential backoff from `retryBackoff`.
    public var maxRetries: Int
    public var retryBackoff: Double
    public var requestTimeout: Double

    public init(
        apiURL: String = "https://api.github.com", repository: RepositoryName, baseBranch: String? = nil,
        auth: GitHubAuthSettings, apiVersion: String = "2022-11-28", maxRateLimitWait: Double = 900,
        secondaryBackoff: Double = 60, maxRetries: Int = 4, retryBackoff: Double = 1, requestTimeout: Double = 30
    ) {
        self.apiURL = apiURL
        self.repository = repository
        self.baseBranch = baseBranch
        self.auth = auth
        self.apiVersion = apiVersion
        self.maxRateLimitWait = maxRateLimitWait
        self.secondaryBackoff = secondaryBackoff
        self.maxRetries = maxRetries
        self.retryBackoff = retryBackoff
        self.requestTimeout = requestTimeout
    }

    public init(config: ServiceConfig) throws {
        var api = config.string("GITHUB_API_URL", default: "https://api.github.com")
        while api.hasSuffix("/") { api.removeLast() }
        guard let url = URL(string: api), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            throw ConfigurationError(variable: "GITHUB_API_URL", reason: "must be an http(s) URL, got '\(api)'")
        }
        self.apiURL = api
        guard let repositoryText = config.string("GITHUB_REPOSITORY") else {
            throw ConfigurationError(variable: "GITHUB_REPOSITORY", reason: "is required (owner/name of the infrastructure repository)")
        }
        guard let repository = RepositoryName(repositoryText) else {
            throw ConfigurationError(variable: "GITHUB_REPOSITORY", reason: "must look like owner/name, got '\(repositoryText)'")
        }
        self.repository = repository
        self.baseBranch = config.string("GITHUB_BASE_BRANCH")
        if let base = baseBranch, !BranchName.isValid(base) {
            throw ConfigurationError(variable: "GITHUB_BASE_BRANCH", reason: "is not a valid branch name: '\(base)'")
        }
        self.auth = try GitHubAuthSettings(config: config)
        self.apiVersion = config.string("GITHUB_API_VERSION", default: "2022-11-28")
        self.maxRateLimitWait = try config.seconds("GITHUB_MAX_RATE_LIMIT_WAIT", default: 900)
        self.secondaryBackoff = try config.seconds("GITHUB_SECONDARY_BACKOFF", default: 60)
        self.maxRetries = try config.int("GITHUB_MAX_RETRIES", default: 4, range: 0...20)
        self.retryBackoff = try config.seconds("GITHUB_RETRY_BACKOFF", default: 1)
        self.requestTimeout = try config.seconds("GITHUB_REQUEST_TIMEOUT", default: 30)
    }

    public static let declared: [SettingSpec] = [
        SettingSpec("GITHUB_REPOSITORY", "Infrastructure repository the bot opens pull requests on (owner/name).", required: true),
        SettingSpec("GITHUB_BASE_BRANCH", default: "", "Branch the pull requests target; empty uses the repository's default branch."),
        SettingSpec("GITHUB_API_URL", default: "https://api.github.com", "GitHub REST API address (GitHub Enterprise: https://HOST/api/v3)."),
        SettingSpec("GITHUB_API_VERSION", default: "2022-11-28", "Value of the X-GitHub-Api-Version header."),
        SettingSpec("GITHUB_TOKEN", default: "", "Fine-grained token (Contents, Pull requests, Issues: read/write). Used when no GitHub App is configured. Also GITHUB_TOKEN_FILE.", secret: true),
        SettingSpec("GITHUB_APP_ID", default: "", "GitHub App ID or client ID (the JWT's iss); enables App authentication."),
        SettingSpec("GITHUB_APP_PRIVATE_KEY_FILE", default: "", "PEM file with the App's RSA private key.", secret: true),
        SettingSpec("GITHUB_APP_INSTALLATION_ID", default: "", "The App's installation ID; empty looks it up from the repository."),
        SettingSpec("GITHUB_MAX_RATE_LIMIT_WAIT", default: "900", "Longest wait for a GitHub rate limit before the request fails with a clear error."),
        SettingSpec("GITHUB_SECONDARY_BACKOFF", default: "60", "First wait after a secondary rate limit without retry-after; doubles each time."),
        SettingSpec("GITHUB_MAX_RETRIES", default: "4", "Retries for GitHub 5xx answers and connection failures."),
        SettingSpec("GITHUB_RETRY_BACKOFF", default: "1", "First wait before retrying a 5xx; doubles each time."),
        SettingSpec("GITHUB_REQUEST_TIMEOUT", default: "30", "Seconds one GitHub request may take."),
    ]
}

/// `GITHUB_TOKEN`, or a GitHub App (`GITHUB_APP_ID` + `GITHUB_APP_PRIVATE_KEY_FILE`).
public enum GitHubAuthSettings: Sendable {
    case token(String)
    case app(appID: String, privateKeyPEM: String, installationID: Int?)

    public init(config: ServiceConfig) throws {
        if let appID = config.string("GITHUB_APP_ID") {
            guard let pem = try config.secret("GITHUB_APP_PRIVATE_KEY") else {
                throw ConfigurationError(variable: "GITHUB_APP_PRIVATE_KEY_FILE", reason: "is required when GITHUB_APP_ID is set")
            }
            var installation: Int?
            if let text = config.string("GITHUB_APP_INSTALLATION_ID") {
                guard let value = Int(text), value > 0 else {
                    throw ConfigurationError(variable: "GITHUB_APP_INSTALLATION_ID", reason: "must be a positive number, got '\(text)'")
                }
                installation = value
            }
            do {
                _ = try AppJWTSigner(appID: appID, privateKeyPEM: pem)
            } catch {
                throw ConfigurationError(variable: "GITHUB_APP_PRIVATE_KEY_FILE", reason: "does not hold a usable RSA private key in PEM form (2048 bits or more)")
            }
            self = .app(appID: appID, privateKeyPEM: pem, installationID: installation)
        } else if let token = try config.secret("GITHUB_TOKEN") {
            self = .token(token)
        } else {
            throw ConfigurationError(variable: "GITHUB_TOKEN", reason: "or GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY_FILE is required")
        }
    }
}

/// `owner/name` of a repository.
public struct RepositoryName: Sendable, Hashable, CustomStringConvertible {
    public let owner: String
    public let name: String

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, parts.allSatisfy({ Self.isValidPart($0) }) else { return nil }
        self.owner = parts[0]
        self.name = parts[1]
    }

    public var description: String { "\(owner)/\(name)" }

    static func isValidPart(_ part: String) -> Bool {
        guard !part.isEmpty, part.count <= 100, part != ".", part != ".." else { return false }
        return part.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0) }
    }
}
