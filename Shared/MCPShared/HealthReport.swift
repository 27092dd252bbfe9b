import Foundation

/// The body of every service's `GET /health`.
public struct HealthReport: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        /// Everything the service depends on answers.
        case ok
        /// The service answers, but a dependency does not (a shard down, a database away).
        case degraded
        /// The service cannot do its job.
        case down
    }

    public var status: Status
    public var service: String
    public var version: String
    public var uptimeSeconds: Double
    public var components: [ComponentHealth]
    /// Problems a person should see without reading logs (tool-name collisions, config errors).
    public var warnings: [String]

    public init(
        status: Status, service: String, version: String, uptimeSeconds: Double,
        components: [ComponentHealth] = [], warnings: [String] = []
    ) {
        self.status = status
        self.service = service
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.components = components
        self.warnings = warnings
    }

    enum CodingKeys: String, CodingKey {
        case status, service, version, components, warnings
        case uptimeSeconds = "uptime_seconds"
    }
}

/// Health of one thing a service depends on: a shard, a database, Traefik's API.
public struct ComponentHealth: Codable, Sendable, Equatable {
    public var name: String
    public var status: HealthStatus
    public var endpoint: String?
    public var toolCount: Int?
    public var lastProbe: Date?
    public var latencyMs: Double?
    public var lastError: String?

    public init(
        name: String, status: HealthStatus, endpoint: String? = nil, toolCount: Int? = nil,
        lastProbe: Date? = nil, latencyMs: Double? = nil, lastError: String? = nil
    ) {
        self.name = name
        self.status = status
        self.endpoint = endpoint
        self.toolCount = toolCount
        self.lastProbe = lastProbe
        self.latencyMs = latencyMs
        self.lastError = lastError
    }

    enum CodingKeys: String, CodingKey {
        case name, status, endpoint
        case toolCount = "tool_count"
        case lastProbe = "last_probe"
        case latencyMs = "latency_ms"
        case lastError = "last_error"
    }
}
