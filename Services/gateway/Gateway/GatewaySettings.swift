import Foundation
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

    public static let defaultPort = 9100

    public init(config: ServiceConfig) throws {
        self.listen = try ListenSettings(config: config, defaultPort: Self.defaultPort)
        self.endpoint = MCPEndpointSettings(
            allowedOrigins: config.list("GATEWAY_ALLOWED_ORIGINS"),
            allowedHosts: config.list("GATEWAY_ALLOWED_HOSTS"),
            sessionIdleTimeout: .seconds(try config.seconds("GATEWAY_SESSION_IDLE_TIMEOUT", default: 1800)),
            maxSessions: try config.int("GATEWAY_MAX_SESSIONS", default: 1000, range: 1...100_000),
            keepAliveInterval: .seconds(try config.seconds("GATEWAY_KEEPALIVE_INTERVAL", default: 25)),
            maxBodyBytes: try config.int("GATEWAY_MAX_BODY_BYTES", default: 4 << 20, range: 1024...(256 << 20)))
        self.staticShards = try ShardEndpoint.parseList(config.string("GATEWAY_SHARDS") ?? "", variable: "GATEWAY_SHARDS")
        self.configFile = config.string("GATEWAY_CONFIG")
        self.probeInterval = .milliseconds(Int64(try config.seconds("GATEWAY_PROBE_INTERVAL", default: 15) * 1000))
        self.callTimeout = .milliseconds(Int64(try config.seconds("GATEWAY_CALL_TIMEOUT", default: 60) * 1000))
        self.probeTimeout = .milliseconds(Int64(try config.seconds("GATEWAY_PROBE_TIMEOUT", default: 5) * 1000))
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
        SettingSpec("GATEWAY_MAX_SESSIONS", default: "1000", "Most MCP sessions kept at once."),
        SettingSpec("GATEWAY_KEEPALIVE_INTERVAL", default: "25", "Seconds between keep-alive comments on idle SSE streams (clients drop silent streams at 300 s)."),
        SettingSpec("GATEWAY_MAX_BODY_BYTES", default: "4194304", "Largest request body accepted."),
    ]
}
