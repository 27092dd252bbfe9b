import Foundation
import RedisKit
import ServiceKit

/// Everything the discovery service reads from its environment.
public struct DiscoverySettings: Sendable {
    public var listen: ListenSettings
    /// `DOCKER_HOST`: `unix:///var/run/docker.sock` or `tcp://docker-socket-proxy:2375`; empty turns Docker off.
    public var dockerHost: String?
    public var labelPrefix: String
    /// `DISCOVERY_NETWORK`: the network shared with the gateway, preferred when a container has several.
    public var preferredNetwork: String?
    public var relistInterval: Duration
    public var staticFile: String?
    public var healthInterval: Duration
    public var healthTimeout: Duration
    /// How long a vanished server stays in the registry before it is marked `removed`.
    public var removeGrace: Duration
    public var databaseURL: String?
    public var sqlitePath: String
    public var redisURL: String?
    public var prAutomationURL: String?

    public static let defaultPort = 9120

    public init(config: ServiceConfig) throws {
        self.listen = try ListenSettings(config: config, defaultPort: Self.defaultPort)
        let docker = config.string("DOCKER_HOST", default: "unix:///var/run/docker.sock").trimmingCharacters(in: .whitespaces)
        if docker.isEmpty || docker == "none" {
            self.dockerHost = nil
        } else {
            _ = try DockerEndpoint(docker)
            self.dockerHost = docker
        }
        self.labelPrefix = config.string("DISCOVERY_LABEL_PREFIX", default: "mcp")
        guard !labelPrefix.isEmpty, labelPrefix.allSatisfy({ $0.isLetter || $0.isNumber || "._-/".contains($0) }) else {
            throw ConfigurationError(variable: "DISCOVERY_LABEL_PREFIX", reason: "must be letters, digits, '.', '_', '-' or '/'")
        }
        self.preferredNetwork = config.string("DISCOVERY_NETWORK")
        self.relistInterval = try config.duration("DISCOVERY_INTERVAL", defaultSeconds: 30)
        self.staticFile = config.string("DISCOVERY_STATIC")
        self.healthInterval = try config.duration("DISCOVERY_HEALTH_INTERVAL", defaultSeconds: 15)
        self.healthTimeout = try config.duration("DISCOVERY_HEALTH_TIMEOUT", defaultSeconds: 5)
        self.removeGrace = try config.duration("DISCOVERY_REMOVE_GRACE", defaultSeconds: 300)
        self.databaseURL = try config.secret("DATABASE_URL")
        self.sqlitePath = config.string("DISCOVERY_SQLITE_PATH", default: "data/discovery.sqlite")
        self.redisURL = try config.secret("REDIS_URL")
        self.prAutomationURL = config.string("PR_AUTOMATION_URL")
        for (variable, value) in [("DISCOVERY_INTERVAL", relistInterval), ("DISCOVERY_HEALTH_INTERVAL", healthInterval), ("DISCOVERY_HEALTH_TIMEOUT", healthTimeout)]
        where value < .milliseconds(100) {
            throw ConfigurationError(variable: variable, reason: "must be at least 0.1 seconds")
        }
        if let redisURL { do { _ = try RedisConfiguration(url: redisURL) } catch { throw ConfigurationError(variable: "REDIS_URL", reason: "\(error)") } }
        if let url = prAutomationURL, URL(string: url)?.host == nil {
            throw ConfigurationError(variable: "PR_AUTOMATION_URL", reason: "must be an http(s) URL such as http://pr-automation:9130")
        }
    }

    /// The variables above, for `.env.example`, the docs and the compose consistency test.
    public static let declared: [SettingSpec] = SettingSpec.common(port: defaultPort) + [
        SettingSpec("DOCKER_HOST", default: "unix:///var/run/docker.sock", "Docker Engine API: unix socket or a read-only socket proxy (tcp://docker-socket-proxy:2375); 'none' turns container discovery off."),
        SettingSpec("DISCOVERY_LABEL_PREFIX", default: "mcp", "Label prefix: <prefix>.enable=true marks a container as an MCP server; also <prefix>.name, .port, .path, .network, .type, .capabilities, .description."),
        SettingSpec("DISCOVERY_NETWORK", default: "", "Docker network shared with the gateway; its address is preferred when a container has several."),
        SettingSpec("DISCOVERY_INTERVAL", default: "30", "Seconds between full container re-lists (heals missed events)."),
        SettingSpec("DISCOVERY_STATIC", default: "", "YAML file of servers that are not containers (servers: [{name, endpoint, type, capabilities, description}])."),
        SettingSpec("DISCOVERY_HEALTH_INTERVAL", default: "15", "Seconds between MCP health checks (initialize + tools/list) of each server."),
        SettingSpec("DISCOVERY_HEALTH_TIMEOUT", default: "5", "Seconds a server has to answer a health check."),
        SettingSpec("DISCOVERY_REMOVE_GRACE", default: "300", "Seconds a vanished server is kept before its row is marked removed."),
        SettingSpec("DATABASE_URL", default: "", "PostgreSQL registry (postgres://user:password@postgres:5432/mcp); empty uses the SQLite file.", secret: true),
        SettingSpec("DISCOVERY_SQLITE_PATH", default: "data/discovery.sqlite", "SQLite registry file when DATABASE_URL is empty."),
        SettingSpec("REDIS_URL", default: "", "Redis for the shared server list (mcp:servers:list) and change events (redis://:password@redis:6379/0); empty turns Redis off.", secret: true),
        SettingSpec("PR_AUTOMATION_URL", default: "", "PR-automation base URL (http://pr-automation:9130); new servers are announced to its /api/v1/create-pr."),
    ]
}
