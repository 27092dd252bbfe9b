import Foundation

/// Health of a registered MCP server as the registry stores it.
public enum HealthStatus: String, Codable, Sendable, CaseIterable {
    case healthy
    case unhealthy
    case unknown
    /// Gone for longer than the grace period; kept for history, never served.
    case removed
}

/// One row of the shared registry (`mcp_servers`): the seed's columns, as every service sees them.
public struct RegistryRecord: Codable, Sendable, Equatable, Identifiable {
    public var id: Int64?
    /// Unique short name; becomes the tool prefix at the gateway.
    public var name: String
    /// What kind of server this is (`shard`, `fastmcp`, `n8n`, ...), free text from the `mcp.type` label.
    public var type: String
    /// The MCP endpoint URL (`http://host:port/mcp`).
    public var endpoint: String
    public var healthStatus: HealthStatus
    public var capabilities: [String]
    public var lastSeen: Date?
    public var metadata: [String: String]
    public var createdAt: Date?

    public init(
        id: Int64? = nil, name: String, type: String = "shard", endpoint: String,
        healthStatus: HealthStatus = .unknown, capabilities: [String] = ["tools"],
        lastSeen: Date? = nil, metadata: [String: String] = [:], createdAt: Date? = nil
    ) {
        self.id = id
        self.name = name
        self.type = type
        self.endpoint = endpoint
        self.healthStatus = healthStatus
        self.capabilities = capabilities
        self.lastSeen = lastSeen
        self.metadata = metadata
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, name, type, endpoint, capabilities, metadata
        case healthStatus = "health_status"
        case lastSeen = "last_seen"
        case createdAt = "created_at"
    }
}
