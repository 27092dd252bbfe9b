import Foundation
import ShardKit
import Yams

/// What `create_route` was asked for, validated.
struct RouteRequest: Sendable, Equatable {
    /// The short name (`grafana`); Traefik objects are called ``objectName`` (`mcp-grafana`).
    var name: String
    var rule: String
    var backends: [String]
    var entryPoints: [String]
    var tls: Bool
    var certResolver: String?
    var middlewares: [String]
    var healthCheckPath: String?

    var objectName: String { RouteName.prefix + name }
    /// How Traefik's API names the router and service.
    var fullName: String { objectName + "@file" }
}

/// Names of managed routes: short, `[a-z0-9-]`, and always inside `mcp-managed/`.
enum RouteName {
    /// Every router and service the shard creates is called `mcp-<name>`.
    static let prefix = "mcp-"
    static let maxLength = 40

    /// The short name for `raw` (`mcp-` prefix optional), or a ``ToolInputError`` that says why not.
    static func validate(_ raw: String) throws -> String {
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        if trimmed.contains("{{") || trimmed.contains("}}") {
            throw ToolInputError("name '\(raw)' contains '{{' or '}}' (Traefik treats files as Go templates); use only a-z, 0-9 and '-'")
        }
        if trimmed.contains("/") || trimmed.contains("\\") || trimmed.contains("..") {
            throw ToolInputError("name '\(raw)' would leave the mcp-managed folder; use only a-z, 0-9 and '-'")
        }
        let name = trimmed.hasPrefix(prefix) ? String(trimmed.dropFirst(prefix.count)) : trimmed
        guard !name.isEmpty, name.count <= maxLength else {
            throw ToolInputError("name must be 1 to \(maxLength) characters (without the '\(prefix)' prefix), got '\(raw)'")
        }
        let allowed = name.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-") }
        guard allowed, name.first != "-", name.last != "-" else {
            throw ToolInputError("name '\(raw)' may contain only lowercase letters, digits and '-', and must not start or end with '-'")
        }
        return name
    }
}

/// Checks for the other free-text inputs of `create_route`.
enum RouteInput {
    static func host(_ host: String) throws -> String {
        let lower = host.trimmingCharacters(in: .whitespaces).lowercased()
        let valid = lower.range(of: #"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$"#, options: .regularExpression) != nil
        guard valid, lower.count <= 253 else { throw ToolInputError("host '\(host)' is not a valid host name (like app.example.com)") }
        return lower
    }

    static func rule(_ rule: String) throws -> String {
        try plain(rule, "rule")
        guard rule.contains("(") else { throw ToolInputError("rule '\(rule)' is not a Traefik rule; write e.g. Host(`app.example.com`) && PathPrefix(`/api`)") }
        return rule
    }

    static func backend(_ url: String) throws -> String {
        try plain(url, "backends")
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), ["http", "https", "h2c"].contains(scheme),
              let host = parsed.host, !host.isEmpty
        else { throw ToolInputError("backend '\(url)' must be a URL like http://grafana:3000") }
        return url
    }

    /// Entry point, middleware and resolver names: letters, digits, `-`, `_`, `.` and one `@provider`.
    static func identifier(_ value: String, _ argument: String) throws -> String {
        guard value.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]*(@[A-Za-z0-9-]+)?$"#, options: .regularExpression) != nil, value.count <= 100 else {
            throw ToolInputError("'\(argument)' value '\(value)' may contain only letters, digits, '.', '-', '_' and one '@provider' suffix")
        }
        return value
    }

    static func path(_ value: String) throws -> String {
        try plain(value, "health_check_path")
        guard value.hasPrefix("/"), !value.contains(" ") else { throw ToolInputError("health_check_path must start with '/' and contain no spaces, got '\(value)'") }
        return value
    }

    private static func plain(_ value: String, _ argument: String) throws {
        if value.contains("{{") || value.contains("}}") {
            throw ToolInputError("'\(argument)' contains '{{' or '}}', which Traefik would read as a Go template")
        }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw ToolInputError("'\(argument)' contains control characters or line breaks")
        }
    }
}

/// The dynamic-configuration file the shard writes for one route: a router and a load-balancer
/// service of the same name. Decoding is strict: every key Traefik would see is modelled, so a
/// round trip through YAML that changes anything means something unexpected was written.
struct ManagedRouteFile: Codable, Equatable, Sendable {
    struct HTTPSection: Codable, Equatable, Sendable {
        var routers: [String: RouterConfig]
        var services: [String: ServiceConfig]
    }
    struct RouterConfig: Codable, Equatable, Sendable {
        var rule: String
        var entryPoints: [String]?
        var service: String
        var middlewares: [String]?
        var tls: TLSConfig?
    }
    struct TLSConfig: Codable, Equatable, Sendable {
        var certResolver: String?
        var options: String?
    }
    struct ServiceConfig: Codable, Equatable, Sendable {
        var loadBalancer: LoadBalancer
    }
    struct LoadBalancer: Codable, Equatable, Sendable {
        var servers: [ServerURL]
        var passHostHeader: Bool
        var healthCheck: HealthCheck?
    }
    struct ServerURL: Codable, Equatable, Sendable {
        var url: String
    }
    struct HealthCheck: Codable, Equatable, Sendable {
        var path: String
        var interval: String
        var timeout: String
    }

    var http: HTTPSection

    /// The first line of every file the shard writes; `delete_route` removes only files with it.
    static let ownershipMarker = "# managed-by: homelab-mcp traefik-shard"

    init(_ request: RouteRequest) {
        // `tls: {}` would be an empty map (rejected by Traefik's parser), so plain TLS names the default options.
        let tls: TLSConfig? = request.tls ? (request.certResolver.map { TLSConfig(certResolver: $0) } ?? TLSConfig(options: "default")) : nil
        let router = RouterConfig(
            rule: request.rule,
            entryPoints: request.entryPoints.isEmpty ? nil : request.entryPoints,
            service: request.objectName,
            middlewares: request.middlewares.isEmpty ? nil : request.middlewares,
            tls: tls)
        let service = ServiceConfig(loadBalancer: LoadBalancer(
            servers: request.backends.map(ServerURL.init(url:)), passHostHeader: true,
            healthCheck: request.healthCheckPath.map { HealthCheck(path: $0, interval: "10s", timeout: "3s") }))
        self.http = HTTPSection(routers: [request.objectName: router], services: [request.objectName: service])
    }

    /// The file's text: marker, then YAML from Yams, checked by decoding it back.
    func render() throws -> String {
        let encoder = YAMLEncoder()
        encoder.options.sortKeys = true
        let yaml = try encoder.encode(self)
        let text = Self.ownershipMarker + " (created by create_route; remove with delete_route)\n" + yaml
        let problems = DynamicConfigChecker.check(text)
        guard problems.isEmpty else { throw ToolInputError("the rendered configuration failed the checks: " + problems.joined(separator: "; ")) }
        let decoded = try YAMLDecoder().decode(ManagedRouteFile.self, from: text)
        guard decoded == self else { throw ToolInputError("the rendered configuration did not decode back to the same route; nothing was written") }
        return text
    }

    static func isOwned(_ text: String) -> Bool {
        text.hasPrefix(ownershipMarker)
    }
}
