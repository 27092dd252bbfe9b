import Foundation
import HTTPTypes
import ServiceKit

/// A discovered MCP server the bot should open a pull request for: the body of
/// `POST /api/v1/create-pr` and of discovery's "new server" webhook.
///
/// Discovery posts its registry record (`name`), the seed's API posts `server_name`; both work.
public struct ServiceAnnouncement: Sendable, Equatable, Decodable {
    public var serverName: String
    public var type: String
    public var endpoint: String
    public var capabilities: [String]
    public var description: String?
    public var dryRun: Bool

    public init(serverName: String, type: String = "shard", endpoint: String, capabilities: [String] = ["tools"], description: String? = nil, dryRun: Bool = false) {
        self.serverName = serverName
        self.type = type
        self.endpoint = endpoint
        self.capabilities = capabilities
        self.description = description
        self.dryRun = dryRun
    }

    enum CodingKeys: String, CodingKey {
        case serverName = "server_name", name, type, endpoint, capabilities, description
        case dryRun = "dry_run"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let name = try container.decodeIfPresent(String.self, forKey: .serverName) ?? container.decodeIfPresent(String.self, forKey: .name) else {
            throw DecodingError.keyNotFound(CodingKeys.serverName, .init(codingPath: [], debugDescription: "server_name is required"))
        }
        self.serverName = name
        self.type = try container.decodeIfPresent(String.self, forKey: .type) ?? "shard"
        self.endpoint = try container.decode(String.self, forKey: .endpoint)
        self.capabilities = try container.decodeIfPresent([String].self, forKey: .capabilities) ?? ["tools"]
        self.description = try container.decodeIfPresent(String.self, forKey: .description)
        self.dryRun = try container.decodeIfPresent(Bool.self, forKey: .dryRun) ?? false
    }

    /// Refuses anything that could escape the manifest or the repository folder: the values end up
    /// in YAML, in a file path and in a branch name.
    public func validated() throws -> ValidatedAnnouncement {
        guard Self.isServiceName(serverName) else {
            throw ServiceError(.badRequest, "server_name must be 1-63 characters of lowercase letters, digits and dashes, starting with a letter or digit, got '\(serverName.prefix(80))'")
        }
        guard Self.isToken(type, max: 40) else {
            throw ServiceError(.badRequest, "type must be 1-40 characters of letters, digits, '.', '_' or '-', got '\(type.prefix(80))'")
        }
        guard let components = URLComponents(string: endpoint), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = components.host, !host.isEmpty, endpoint.count <= 500,
              !endpoint.unicodeScalars.contains(where: { $0.value <= 0x20 || "\"'\\`{}<>".unicodeScalars.contains($0) })
        else {
            throw ServiceError(.badRequest, "endpoint must be an http(s) URL of the server's MCP endpoint without spaces or quotes, got '\(endpoint.prefix(200))'")
        }
        guard !capabilities.isEmpty, capabilities.count <= 20, capabilities.allSatisfy({ Self.isToken($0, max: 40) }) else {
            throw ServiceError(.badRequest, "capabilities must be a list of 1-20 words of letters, digits, '.', '_' or '-'")
        }
        if let description, description.count > 500 || description.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw ServiceError(.badRequest, "description must be a single line of at most 500 characters")
        }
        let defaultPort = scheme == "https" ? 443 : 80
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        return ValidatedAnnouncement(
            name: serverName, type: type, endpoint: endpoint, capabilities: capabilities,
            description: description?.trimmingCharacters(in: .whitespaces), host: host, port: components.port ?? defaultPort, path: path)
    }

    static func isServiceName(_ text: String) -> Bool {
        guard (1...63).contains(text.count), let first = text.unicodeScalars.first, first != "-" else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    static func isToken(_ text: String, max: Int) -> Bool {
        guard (1...max).contains(text.count) else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }
    }
}

/// An announcement whose every field is safe to render, with the endpoint taken apart.
public struct ValidatedAnnouncement: Sendable, Equatable {
    public let name: String
    public let type: String
    public let endpoint: String
    public let capabilities: [String]
    public let description: String?
    public let host: String
    public let port: Int
    public let path: String
}

/// Git branch names the bot uses and accepts.
public enum BranchName {
    /// `auto/add-mcp-<name>`, the one branch per service.
    public static func forService(_ name: String) -> String {
        "auto/add-mcp-" + sanitise(name)
    }

    /// Lowercase letters, digits and single dashes; anything else becomes a dash.
    static func sanitise(_ name: String) -> String {
        var out = ""
        for scalar in name.lowercased().unicodeScalars {
            let keep = ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
            if keep { out.unicodeScalars.append(scalar) } else if !out.hasSuffix("-") { out.append("-") }
        }
        let trimmed = out.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
        return trimmed.isEmpty ? "service" : String(trimmed.prefix(63))
    }

    /// git check-ref-format's rules, the parts that matter for a configured base branch.
    public static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 255, !name.hasPrefix("/"), !name.hasSuffix("/"), !name.hasSuffix("."),
              !name.hasSuffix(".lock"), !name.contains(".."), !name.contains("//"), !name.contains("@{"), name != "@"
        else { return false }
        return !name.unicodeScalars.contains { $0.value <= 0x20 || $0.value == 0x7f || "~^:?*[\\".unicodeScalars.contains($0) }
    }
}
