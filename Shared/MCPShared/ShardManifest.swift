import MCP

/// What a shard says about itself at `GET /manifest`: enough for the gateway, the discovery
/// service and the PR bot to register it without speaking MCP first.
public struct ShardManifest: Codable, Sendable, Equatable {
    /// Short prefix for the shard's tools (`<name>_<tool>` at the gateway).
    public var name: String
    public var version: String
    public var description: String
    public var tools: [Tool]
    /// Where a person reads about the service behind the shard.
    public var docsURL: String?

    public init(name: String, version: String, description: String, tools: [Tool], docsURL: String? = nil) {
        self.name = name
        self.version = version
        self.description = description
        self.tools = tools
        self.docsURL = docsURL
    }

    enum CodingKeys: String, CodingKey {
        case name, version, description, tools
        case docsURL = "docs_url"
    }
}
