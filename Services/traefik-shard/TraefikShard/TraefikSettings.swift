import Foundation
import ServiceKit
import ShardKit

/// Everything the Traefik shard reads from its environment.
public struct TraefikSettings: Sendable {
    public var shard: ShardSettings
    /// Base of Traefik's API, ending in `/api` (e.g. `http://10.0.0.151:8080/api`).
    public var apiURL: String
    /// Traefik's file-provider directory; the shard writes only under `<dir>/mcp-managed/`.
    public var dynamicDirectory: String
    /// How long `create_route`/`delete_route` wait for Traefik to confirm a change.
    public var applyTimeout: Duration
    /// Timeout of one request to Traefik's API or to a backend probe.
    public var requestTimeout: Duration
    /// Path of a Traefik binary used to validate configuration in a throwaway instance.
    public var validatorPath: String?
    /// `host:port` of Traefik's HTTPS entry point, for TLS handshakes.
    public var httpsAddress: String?
    public var docsURL: String
    public var docsCacheTTL: Duration

    public static let defaultPort = 9110

    public init(
        shard: ShardSettings, apiURL: String, dynamicDirectory: String, applyTimeout: Duration = .seconds(10),
        requestTimeout: Duration = .seconds(5), validatorPath: String? = nil, httpsAddress: String? = nil,
        docsURL: String = "https://doc.traefik.io/traefik/", docsCacheTTL: Duration = .seconds(3600)
    ) {
        self.shard = shard
        self.apiURL = Self.trimmedURL(apiURL)
        self.dynamicDirectory = dynamicDirectory
        self.applyTimeout = applyTimeout
        self.requestTimeout = requestTimeout
        self.validatorPath = validatorPath
        self.httpsAddress = httpsAddress
        self.docsURL = docsURL
        self.docsCacheTTL = docsCacheTTL
    }

    public init(config: ServiceConfig) throws {
        let apiURL = config.string("TRAEFIK_API_URL", default: "http://traefik:8080/api")
        guard let url = URL(string: apiURL), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ConfigurationError(variable: "TRAEFIK_API_URL", reason: "must be an http(s) URL like http://10.0.0.151:8080/api, got '\(apiURL)'")
        }
        let docsURL = config.string("TRAEFIK_DOCS_URL", default: "https://doc.traefik.io/traefik/")
        guard URL(string: docsURL)?.host != nil else {
            throw ConfigurationError(variable: "TRAEFIK_DOCS_URL", reason: "must be an http(s) URL, got '\(docsURL)'")
        }
        let httpsAddress = config.string("TRAEFIK_HTTPS_ADDR")
        if let httpsAddress, HostPort(httpsAddress) == nil {
            throw ConfigurationError(variable: "TRAEFIK_HTTPS_ADDR", reason: "must be host:port, got '\(httpsAddress)'")
        }
        let applyTimeout = try config.seconds("TRAEFIK_APPLY_TIMEOUT", default: 10)
        guard applyTimeout >= 1 else {
            throw ConfigurationError(variable: "TRAEFIK_APPLY_TIMEOUT", reason: "must be at least 1 second (Traefik throttles reloads by 2s by default)")
        }
        self.init(
            shard: try ShardSettings(config: config, defaultPort: Self.defaultPort),
            apiURL: apiURL,
            dynamicDirectory: config.string("TRAEFIK_DYNAMIC_DIR", default: "/dynamic"),
            applyTimeout: .milliseconds(Int64(applyTimeout * 1000)),
            requestTimeout: try config.duration("TRAEFIK_REQUEST_TIMEOUT", defaultSeconds: 5),
            validatorPath: config.string("TRAEFIK_VALIDATOR"),
            httpsAddress: httpsAddress,
            docsURL: docsURL,
            docsCacheTTL: try config.duration("TRAEFIK_DOCS_CACHE_TTL", defaultSeconds: 3600))
    }

    /// The variables above, for `.env.example`, the docs and the compose consistency test.
    public static let declared: [SettingSpec] = ShardSettings.declared(defaultPort: defaultPort) + [
        SettingSpec("TRAEFIK_API_URL", default: "http://traefik:8080/api", "Traefik's API base URL, ending in /api (Waldorf: http://10.0.0.151:8080/api)."),
        SettingSpec("TRAEFIK_DYNAMIC_DIR", default: "/dynamic", "Traefik's file-provider directory as mounted in the shard; it writes only under <dir>/mcp-managed/."),
        SettingSpec("TRAEFIK_APPLY_TIMEOUT", default: "10", "Seconds to wait for Traefik to confirm a route change before rolling it back."),
        SettingSpec("TRAEFIK_REQUEST_TIMEOUT", default: "5", "Seconds for one request to Traefik's API or one backend probe."),
        SettingSpec("TRAEFIK_VALIDATOR", default: "", "Path of a Traefik binary; when set, validate_config also runs it against a copy of the directory."),
        SettingSpec("TRAEFIK_HTTPS_ADDR", default: "", "host:port of Traefik's HTTPS entry point, for TLS handshakes when /api/certificates is missing (Traefik < 3.7)."),
        SettingSpec("TRAEFIK_DOCS_URL", default: "https://doc.traefik.io/traefik/", "Base URL of the Traefik documentation site."),
        SettingSpec("TRAEFIK_DOCS_CACHE_TTL", default: "3600", "Seconds a fetched documentation page stays cached."),
    ]

    /// `<dynamic dir>/mcp-managed`.
    public var managedDirectory: String { (dynamicDirectory as NSString).appendingPathComponent(ManagedFiles.folderName) }

    static func trimmedURL(_ url: String) -> String {
        var result = url
        while result.hasSuffix("/") { result.removeLast() }
        return result
    }
}

/// `host:port`, as given in `TRAEFIK_HTTPS_ADDR`.
struct HostPort: Sendable {
    let host: String
    let port: Int

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }
}
