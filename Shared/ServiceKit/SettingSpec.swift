/// One environment variable a service reads: the declaration that `.env.example`, the docs and
/// the compose consistency test are checked against.
public struct SettingSpec: Sendable, Hashable {
    public let name: String
    /// The default as a user would write it; `nil` when unset means "feature off".
    public let defaultValue: String?
    public let meaning: String
    public let isSecret: Bool
    /// The service refuses to start without it.
    public let isRequired: Bool

    public init(_ name: String, default defaultValue: String? = nil, _ meaning: String, secret: Bool = false, required: Bool = false) {
        self.name = name
        self.defaultValue = defaultValue
        self.meaning = meaning
        self.isSecret = secret
        self.isRequired = required
    }

    /// Settings every service reads through the service kit.
    public static func common(port: Int) -> [SettingSpec] {
        [
            SettingSpec("HOST", default: "127.0.0.1", "Address to listen on; compose sets 0.0.0.0."),
            SettingSpec("PORT", default: String(port), "Port to listen on."),
            SettingSpec("LOG_LEVEL", default: "info", "trace, debug, info, notice, warning, error or critical."),
            SettingSpec("LOG_FORMAT", default: "text", "text for people, json for log collectors."),
        ]
    }
}
