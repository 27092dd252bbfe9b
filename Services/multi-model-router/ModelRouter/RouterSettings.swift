import Foundation
import ServiceKit

/// Everything the router reads from its environment.
public struct RouterSettings: Sendable {
    public var listen: ListenSettings
    /// `ROUTER_CONFIG`: the LiteLLM-shaped YAML; re-read when it changes.
    public var configFile: String
    /// Bearer keys by name (the master key is named `master`); empty means open.
    public var apiKeys: [String: String]
    public var maxBodyBytes: Int
    public var databaseURL: String?
    public var redisURL: String?
    /// Where usage records go when `DATABASE_URL` is unset.
    public var sqlitePath: String
    public var configPollInterval: Double
    /// The process environment, for `os.environ/NAME` keys in the config file.
    public var environment: [String: String]

    public static let defaultPort = 4000

    public init(config: ServiceConfig, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.listen = try ListenSettings(config: config, defaultPort: Self.defaultPort)
        guard let file = config.string("ROUTER_CONFIG") else {
            throw ConfigurationError(variable: "ROUTER_CONFIG", reason: "must name the router's YAML config (model_list)")
        }
        self.configFile = file
        var keys: [String: String] = [:]
        if let master = try config.secret("ROUTER_MASTER_KEY") { keys["master"] = master }
        if let extra = try config.secret("ROUTER_API_KEYS") {
            for item in extra.split(separator: ",") {
                let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw ConfigurationError(variable: "ROUTER_API_KEYS", reason: "must be name=key pairs separated by commas")
                }
                keys[parts[0]] = parts[1]
            }
        }
        self.apiKeys = keys
        self.maxBodyBytes = try config.int("ROUTER_MAX_BODY_BYTES", default: 20 << 20, range: 1024...(512 << 20))
        self.databaseURL = try config.secret("DATABASE_URL")
        self.redisURL = try config.secret("REDIS_URL")
        self.sqlitePath = config.string("ROUTER_SQLITE_PATH", default: "data/router.sqlite")
        self.configPollInterval = try config.seconds("ROUTER_CONFIG_POLL_INTERVAL", default: 2)
        self.environment = environment
    }

    public static let declared: [SettingSpec] = SettingSpec.common(port: defaultPort) + [
        SettingSpec("ROUTER_CONFIG", "YAML config: LiteLLM-shaped model_list, aliases, fallbacks, auto rules, budgets; re-read when it changes.", required: true),
        SettingSpec("ROUTER_MASTER_KEY", "Bearer key clients must send; unset leaves the router open (with a startup warning).", secret: true),
        SettingSpec("ROUTER_API_KEYS", default: "", "Extra keys as name=key,name=key; the name appears in usage records.", secret: true),
        SettingSpec("ROUTER_MAX_BODY_BYTES", default: "20971520", "Largest request body accepted (images make bodies big)."),
        SettingSpec("ROUTER_CONFIG_POLL_INTERVAL", default: "2", "Seconds between checks of ROUTER_CONFIG for changes."),
        SettingSpec("DATABASE_URL", default: "", "PostgreSQL URL for usage records; unset means SQLite at ROUTER_SQLITE_PATH.", secret: true),
        SettingSpec("ROUTER_SQLITE_PATH", default: "data/router.sqlite", "SQLite file for usage records when DATABASE_URL is unset."),
        SettingSpec("REDIS_URL", default: "", "Redis URL for the response cache; unset keeps it in process.", secret: true),
        SettingSpec("ANTHROPIC_API_KEY", default: "", "Read by model_list entries that say os.environ/ANTHROPIC_API_KEY.", secret: true),
        SettingSpec("GEMINI_API_KEY", default: "", "Read by model_list entries that say os.environ/GEMINI_API_KEY.", secret: true),
        SettingSpec("OPENAI_API_KEY", default: "", "Read by model_list entries that say os.environ/OPENAI_API_KEY.", secret: true),
    ]
}
