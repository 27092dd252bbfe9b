import MCPShared

/// Everything that makes a shard: who it is and its tools. The shard kit does the rest.
public struct ShardDefinition: Sendable {
    public let name: String
    public let version: String
    public let description: String
    public let docsURL: String?
    public let tools: [ShardTool]

    public init(name: String, version: String, description: String, docsURL: String? = nil, tools: [ShardTool]) {
        self.name = name
        self.version = version
        self.description = description
        self.docsURL = docsURL
        self.tools = tools
    }

    public var manifest: ShardManifest {
        ShardManifest(name: name, version: version, description: description, tools: tools.map(\.definition), docsURL: docsURL)
    }
}
