import Foundation
import ServiceKit
import ShardKit

/// Everything the {{title}} shard reads from its environment.
public struct {{Name}}Settings: Sendable {
    public var shard: ShardSettings
    /// Base URL of {{title}} as the shard reaches it (e.g. `http://{{name}}:8080`).
    public var url: String
    /// Path the status tool and /health request; any page that answers without side effects.
    public var statusPath: String
    /// Sent as `Authorization: Bearer <token>` when set (change `{{Name}}API.get` if {{title}} wants another header).
    public var apiToken: String?
    /// Timeout of one request to {{title}}.
    public var requestTimeout: Duration
    /// Base URL of {{title}}'s documentation; empty turns the docs tool into a clear "not configured".
    public var docsURL: String
    public var docsCacheTTL: Duration

    public static let defaultPort = {{port}}

    public init(
        shard: ShardSettings, url: String, statusPath: String = "/", apiToken: String? = nil,
        requestTimeout: Duration = .seconds(5), docsURL: String = "{{docs_url}}", docsCacheTTL: Duration = .seconds(3600)
    ) {
        self.shard = shard
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.statusPath = statusPath.hasPrefix("/") ? statusPath : "/" + statusPath
        self.apiToken = apiToken
        self.requestTimeout = requestTimeout
        self.docsURL = docsURL
        self.docsCacheTTL = docsCacheTTL
    }

    public init(config: ServiceConfig) throws {
        let url = config.string("{{NAME}}_URL", default: "http://{{name}}:8080")
        guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
            throw ConfigurationError(variable: "{{NAME}}_URL", reason: "must be an http(s) URL like http://{{name}}:8080, got '\(url)'")
        }
        let docsURL = config.string("{{NAME}}_DOCS_URL", default: "{{docs_url}}")
        guard docsURL.isEmpty || URL(string: docsURL)?.host != nil else {
            throw ConfigurationError(variable: "{{NAME}}_DOCS_URL", reason: "must be an http(s) URL, got '\(docsURL)'")
        }
        self.init(
            shard: try ShardSettings(config: config, defaultPort: Self.defaultPort),
            url: url,
            statusPath: config.string("{{NAME}}_STATUS_PATH", default: "/"),
            apiToken: try config.secret("{{NAME}}_API_TOKEN"),
            requestTimeout: try config.duration("{{NAME}}_REQUEST_TIMEOUT", defaultSeconds: 5),
            docsURL: docsURL,
            docsCacheTTL: try config.duration("{{NAME}}_DOCS_CACHE_TTL", defaultSeconds: 3600))
    }

    /// The variables above, for `.env.example`, the docs and the compose consistency test.
    public static let declared: [SettingSpec] = ShardSettings.declared(defaultPort: defaultPort) + [
        SettingSpec("{{NAME}}_URL", default: "http://{{name}}:8080", "Base URL of {{title}} as the shard reaches it."),
        SettingSpec("{{NAME}}_STATUS_PATH", default: "/", "Path the status tool and /health request on {{title}}."),
        SettingSpec("{{NAME}}_API_TOKEN", default: "", "Token sent as a bearer token to {{title}} (or {{NAME}}_API_TOKEN_FILE); empty sends none.", secret: true),
        SettingSpec("{{NAME}}_REQUEST_TIMEOUT", default: "5", "Seconds for one request to {{title}}."),
        SettingSpec("{{NAME}}_DOCS_URL", default: "{{docs_url}}", "Base URL of {{title}}'s documentation for get_{{name_snake}}_docs (empty: no docs tool answers)."),
        SettingSpec("{{NAME}}_DOCS_CACHE_TTL", default: "3600", "Seconds a fetched documentation page stays cached."),
    ]
}
