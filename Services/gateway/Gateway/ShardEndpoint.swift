import Foundation
import MCPShared
import ServiceKit

/// A shard the gateway should aggregate: its tool prefix and its MCP endpoint.
public struct ShardEndpoint: Sendable, Hashable, Codable {
    public var name: String
    public var url: String

    public init(name: String, url: String) {
        self.name = name
        self.url = url
    }

    /// Checks a shard entry; the message names the offending entry and `variable`.
    public static func validated(name rawName: String, url rawURL: String, variable: String) throws -> ShardEndpoint {
        let name = rawName.trimmingCharacters(in: .whitespaces)
        let url = rawURL.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, ToolNaming.isValid(name), name.count <= 32 else {
            throw ConfigurationError(variable: variable, reason: "has an invalid shard name '\(name)': use letters, digits, '-' or '_', at most 32 characters")
        }
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme), parsed.host != nil else {
            throw ConfigurationError(variable: variable, reason: "has an invalid URL for shard '\(name)': '\(url)' (expected http://host:port/mcp)")
        }
        return ShardEndpoint(name: name, url: url)
    }

    /// Parses `name=url,name=url`.
    public static func parseList(_ text: String, variable: String) throws -> [ShardEndpoint] {
        var seen = Set<String>()
        return try text.split(separator: ",").compactMap { entry in
            let trimmed = entry.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { return nil }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw ConfigurationError(variable: variable, reason: "entry '\(trimmed)' is not name=url")
            }
            let shard = try validated(name: String(trimmed[..<equals]), url: String(trimmed[trimmed.index(after: equals)...]), variable: variable)
            guard seen.insert(shard.name).inserted else {
                throw ConfigurationError(variable: variable, reason: "names shard '\(shard.name)' twice")
            }
            return shard
        }
    }
}
