import Foundation

/// The parts of the Docker Engine API (v1.44+) discovery reads; everything else is ignored, as the
/// API's open schema asks.
struct DockerContainer: Decodable, Sendable, Equatable {
    var id: String
    var names: [String]
    var labels: [String: String]
    var state: String?
    var networks: [String: DockerEndpointSettings]

    enum CodingKeys: String, CodingKey {
        case id = "Id", names = "Names", labels = "Labels", state = "State", networkSettings = "NetworkSettings"
    }

    struct NetworkSettings: Decodable {
        var networks: [String: DockerEndpointSettings]?
        enum CodingKeys: String, CodingKey { case networks = "Networks" }
    }

    init(id: String, names: [String], labels: [String: String], state: String?, networks: [String: DockerEndpointSettings]) {
        self.id = id
        self.names = names
        self.labels = labels
        self.state = state
        self.networks = networks
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        names = try container.decodeIfPresent([String].self, forKey: .names) ?? []
        labels = try container.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        state = try container.decodeIfPresent(String.self, forKey: .state)
        networks = try container.decodeIfPresent(NetworkSettings.self, forKey: .networkSettings)?.networks ?? [:]
    }

    /// The container name without Docker's leading slash.
    var name: String { (names.first ?? String(id.prefix(12))).trimmingCharacters(in: CharacterSet(charactersIn: "/")) }
}

struct DockerEndpointSettings: Decodable, Sendable, Equatable {
    var ipAddress: String?
    var aliases: [String]?
    var dnsNames: [String]?

    enum CodingKeys: String, CodingKey {
        case ipAddress = "IPAddress", aliases = "Aliases", dnsNames = "DNSNames"
    }
}

/// One line of `GET /events`.
struct DockerEvent: Decodable, Sendable {
    var type: String
    var action: String
    var actor: Actor
    var timeNano: Int64?
    var time: Int64?

    struct Actor: Decodable, Sendable {
        var id: String
        var attributes: [String: String]?
        enum CodingKeys: String, CodingKey { case id = "ID", attributes = "Attributes" }
    }

    enum CodingKeys: String, CodingKey {
        case type = "Type", action = "Action", actor = "Actor", timeNano, time
    }
}

/// Docker's error body, `{"message": "..."}`.
struct DockerErrorBody: Decodable {
    var message: String
}
