import Foundation
import MCPShared
import ServiceKit
import Yams

/// `DISCOVERY_STATIC`: servers that are not containers (another host, an n8n MCP trigger).
///
/// ```yaml
/// servers:
///   - name: n8n
///     endpoint: http://n8n.lan:5678/mcp/abc
///     type: n8n
///     capabilities: [tools]
///     description: Workflows exposed as tools
/// ```
enum StaticServers {
    struct File: Decodable {
        var servers: [Entry]?
    }

    struct Entry: Decodable {
        var name: String
        var endpoint: String
        var type: String?
        var capabilities: [String]?
        var description: String?
    }

    static func load(path: String) throws -> [ServerCandidate] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(variable: "DISCOVERY_STATIC", reason: "cannot read \(path): \(error.localizedDescription)")
        }
        return try parse(text, path: path)
    }

    static func parse(_ text: String, path: String) throws -> [ServerCandidate] {
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: text)
        } catch {
            throw ConfigurationError(variable: "DISCOVERY_STATIC", reason: "\(path) is not a servers: list of {name, endpoint}: \(error)")
        }
        var seen = Set<String>()
        return try (file.servers ?? []).map { entry in
            let name = entry.name.trimmingCharacters(in: .whitespaces).lowercased()
            guard ToolNaming.isValid(name), name.count <= 32 else {
                throw ConfigurationError(variable: "DISCOVERY_STATIC", reason: "\(path): invalid server name '\(entry.name)' (letters, digits, '-' or '_', at most 32)")
            }
            guard let url = URL(string: entry.endpoint), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                throw ConfigurationError(variable: "DISCOVERY_STATIC", reason: "\(path): server '\(name)' has an invalid endpoint '\(entry.endpoint)' (expected http://host:port/mcp)")
            }
            guard seen.insert(name).inserted else {
                throw ConfigurationError(variable: "DISCOVERY_STATIC", reason: "\(path): names server '\(name)' twice")
            }
            return ServerCandidate(
                name: name, endpoint: entry.endpoint, type: entry.type ?? "static", capabilities: entry.capabilities ?? ["tools"],
                description: entry.description, source: .file)
        }
    }
}
