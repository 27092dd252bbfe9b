import Foundation
import RedisKit
import ServiceKit

/// Everything the gateway reads from its environment.
public struct GatewaySettings: Sendable {
    public var listen: ListenSettings
    public var endpoint: MCPEndpointSettings
    /// `GATEWAY_SHARDS`: `name=url,...`.
    public var staticShards: [ShardEndpoint]
    /// `GATEWAY_CONFIG`: a YAML file with `shards:`, re-read when it changes.
    public var configFile: String?
    public var probeInterval: Duration
    public var callTimeout: Duration
    /// How long the gateway waits for a shard to answer initialize and tools/list.
    public var probeTimeout: Duration
    /// `GATEWAY_DISCOVERY_URL`: the discovery service whose HTTP feed adds discovered shards.
    public var discoveryURL: String?
    /// `REDIS_URL`: follow discovery's list through Redis pub/sub.
    public var redisURL: String?

    /// Client profiles; `default` (served at `/mcp`) is always present.
    public var profiles: [GatewayProfile]
    /// `GATEWAY_TRUSTED_NETWORKS` plus the file's `trusted_networks`.
    var trustedNetworks: TrustedNetworks
    /// How clients outside Compose reach the gateway, and how containers on its network do.
    public var publicURL: String
    public var internalURL: String

    public static let defaultPort = 9100

    public init(config: ServiceConfig) throws {
        self.listen = try ListenSettings(config: config, defaultPort: Self.defaultPort)
        self.endpoint = MCPEndpointSettings(
            allowedOrigins: config.list("GATEWAY_ALLOWED_ORIGINS"),
            allowedHosts: config.list("GATEWAY_ALLOWED_HOSTS"),
            sessionIdleTimeout: try config.duration("GATEWAY_SESSION_IDLE_TIMEOUT", defaultSeconds: 1800),
            maxSessions: try config.int("GATEWAY_MAX_SESSIONS", default: 1000, range: 1...100_000),
            keepAliveInterval: try config.duration("GATEWAY_KEEPALIVE_INTERVAL", defaultSeconds: 25),
            maxBodyBytes: try config.int("GATEWAY_MAX_BODY_BYTES", default: 4 << 20, range: 1024...(256 << 20)))
        self.staticShards = try ShardEndpoint.parseList(config.string("GATEWAY_SHARDS") ?? "", variable: "GATEWAY_SHARDS")
        self.configFile = config.string("GATEWAY_CONFIG")
        let file = try configFile.map { try GatewayConfigFile.read(path: $0) }
        self.profiles = try GatewayConfigFile.profiles(from: file, defaultTokens: config.list("GATEWAY_API_TOKENS"), config: config)
        do {
            self.trustedNetworks = try TrustedNetworks(config.list("GATEWAY_TRUSTED_NETWORKS") + (file?.trustedNetworks ?? []))
        } catch {
            throw ConfigurationError(variable: "GATEWAY_TRUSTED_NETWORKS", reason: "\(error)")
        }
        self.publicURL = config.string("GATEWAY_PUBLIC_URL", default: "http://waldorf:\(listen.port)")
        self.internalURL = config.string("GATEWAY_INTERNAL_URL", default: "http://gateway:\(listen.port)")
        self.probeInterval = try config.duration("GATEWAY_PROBE_INTERVAL", defaultSeconds: 15)
        self.callTimeout = try config.duration("GATEWAY_CALL_TIMEOUT", defaultSeconds: 60)
        self.probeTimeout = try config.duration("GATEWAY_PROBE_TIMEOUT", defaultSeconds: 5)
        self.discoveryURL = config.string("GATEWAY_DISCOVERY_URL")
        self.redisURL = try config.secret("REDIS_URL")
        if let url = discoveryURL, URL(string: url)?.host == nil {
            throw ConfigurationError(variable: "GATEWAY_DISCOVERY_URL", reason: "must be an http(s) URL such as http://discovery:9120")
        }
        if let url = redisURL {
            do { _ = try RedisConfiguration(url: url) } catch { throw ConfigurationError(variable: "REDIS_URL", reason: "\(error)") }
        }
        if probeInterval < .milliseconds(100) {
            throw ConfigurationError(variable: "GATEWAY_PROBE_INTERVAL", reason: "must be at least 0.1 seconds")
        }
    }

    /// The variables above, for `.env.example`, the docs and the compose consistency test.
    public static let declared: [SettingSpec] = SettingSpec.common(port: defaultPort) + [
        SettingSpec("GATEWAY_SHARDS", default: "", "Static shards: name=url of the shard's MCP endpoint, comma-separated (traefik=http://traefik-shard:9110/mcp)."),
        SettingSpec("GATEWAY_CONFIG", default: "", "YAML file with a shards: list; re-read when it changes."),
        SettingSpec("GATEWAY_PROBE_INTERVAL", default: "15", "Seconds between shard probes (initialize + tools/list)."),
        SettingSpec("GATEWAY_PROBE_TIMEOUT", default: "5", "Seconds a shard has to answer a probe."),
        SettingSpec("GATEWAY_CALL_TIMEOUT", default: "60", "Seconds a tool call may take before the gateway gives up and cancels it."),
        SettingSpec("GATEWAY_ALLOWED_ORIGINS", default: "", "Browser origins allowed to call /mcp (comma-separated, * for any); requests without Origin always pass."),
        SettingSpec("GATEWAY_ALLOWED_HOSTS", default: "", "Host header values to accept (comma-separated); empty accepts any."),
        SettingSpec("GATEWAY_SESSION_IDLE_TIMEOUT", default: "1800", "Seconds before an idle MCP session is closed (the client then re-initializes)."),
        SettingSpec("GATEWAY_MAX_SESSIONS", default: "1000", "Most MCP sessions kept at once (and, separately, most open subscriptions/listen streams)."),
        SettingSpec("GATEWAY_KEEPALIVE_INTERVAL", default: "25", "Seconds between keep-alive comments on idle SSE streams (clients drop silent streams at 300 s)."),
        SettingSpec("GATEWAY_API_TOKENS", default: "", "Bearer tokens for the default profile (/mcp), comma-separated; empty leaves it open.", secret: true),
        SettingSpec("GATEWAY_TRUSTED_NETWORKS", default: "", "CIDR ranges (e.g. Open WebUI's network) whose X-OpenWebUI-User-* headers are logged as the caller's identity."),
        SettingSpec("GATEWAY_PUBLIC_URL", default: "http://waldorf:9100", "How clients outside Compose reach the gateway (used in /api/v1/clients snippets)."),
        SettingSpec("GATEWAY_INTERNAL_URL", default: "http://gateway:9100", "How containers on the Compose network reach the gateway (used in snippets)."),
        SettingSpec("GATEWAY_MAX_BODY_BYTES", default: "4194304", "Largest request body accepted."),
        SettingSpec("GATEWAY_DISCOVERY_URL", default: "", "Discovery service (http://discovery:9120): its feed adds discovered servers next to GATEWAY_SHARDS."),
        SettingSpec("REDIS_URL", default: "", "Redis shared with discovery (redis://:password@redis:6379/0): follow mcp:servers:events.", secret: true),
    ]
}
