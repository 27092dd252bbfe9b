import Foundation

// The parts of Traefik's API answers the shard reads (shapes from Traefik 3.7). Every field is
// optional so that a newer or older Traefik still decodes.

/// `/api/rawdata`: the runtime configuration keyed by `name@provider`.
public struct RawData: Decodable, Sendable {
    public var routers: [String: TraefikRouter]
    public var services: [String: TraefikService]
    public var middlewares: [String: TraefikMiddleware]
    public var tcpRouters: [String: TraefikRouter]
    public var tcpServices: [String: TraefikService]

    enum CodingKeys: String, CodingKey {
        case routers, services, middlewares, tcpRouters, tcpServices
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        routers = try container.decodeIfPresent([String: TraefikRouter].self, forKey: .routers) ?? [:]
        services = try container.decodeIfPresent([String: TraefikService].self, forKey: .services) ?? [:]
        middlewares = try container.decodeIfPresent([String: TraefikMiddleware].self, forKey: .middlewares) ?? [:]
        tcpRouters = try container.decodeIfPresent([String: TraefikRouter].self, forKey: .tcpRouters) ?? [:]
        tcpServices = try container.decodeIfPresent([String: TraefikService].self, forKey: .tcpServices) ?? [:]
    }

    /// Every object name Traefik knows (routers, services, middlewares, HTTP and TCP), with the provider suffix.
    public var allNames: [String] {
        Array(routers.keys) + Array(services.keys) + Array(middlewares.keys) + Array(tcpRouters.keys) + Array(tcpServices.keys)
    }
}

public struct TraefikRouter: Decodable, Sendable {
    public var entryPoints: [String]?
    public var middlewares: [String]?
    public var service: String?
    public var rule: String?
    public var tls: RouterTLS?
    public var status: String?
    public var error: [String]?
    public var name: String?
    public var provider: String?

    public struct RouterTLS: Decodable, Sendable {
        public var certResolver: String?
        public var options: String?
        public var passthrough: Bool?
    }

    /// Host names from `Host(...)` and `HostSNI(...)` matchers in the rule.
    public var hosts: [String] { RuleHosts.hosts(in: rule ?? "") }
}

public struct TraefikService: Decodable, Sendable {
    public var loadBalancer: LoadBalancer?
    public var status: String?
    public var error: [String]?
    public var usedBy: [String]?
    public var serverStatus: [String: String]?

    public struct LoadBalancer: Decodable, Sendable {
        public var servers: [Server]?
        public var healthCheck: HealthCheck?
    }

    public struct Server: Decodable, Sendable {
        public var url: String?
        public var address: String?
    }

    public struct HealthCheck: Decodable, Sendable {
        public var path: String?
        public var interval: String?
    }
}

public struct TraefikMiddleware: Decodable, Sendable {
    public var status: String?
    public var error: [String]?
    public var type: String?
}

public struct Overview: Decodable, Sendable {
    public struct Counts: Codable, Sendable {
        public var total: Int?
        public var warnings: Int?
        public var errors: Int?
    }
    public struct Section: Codable, Sendable {
        public var routers: Counts?
        public var services: Counts?
        public var middlewares: Counts?
    }
    public var http: Section?
    public var tcp: Section?
    public var udp: Section?
    public var providers: [String]?
}

public struct TraefikVersion: Decodable, Sendable {
    public var version: String?
    enum CodingKeys: String, CodingKey { case version = "Version" }
}

/// `/api/certificates` item (Traefik 3.7+).
public struct TraefikCertificate: Decodable, Sendable {
    public var sans: [String]?
    public var notAfter: String?
    public var notBefore: String?
    public var commonName: String?
    public var issuerCN: String?
    public var issuerOrg: String?
    public var status: String?
}

/// Host names in a Traefik rule.
public enum RuleHosts {
    /// `Host(\`a\`, \`b\`) || HostSNI(\`c\`)` → `[a, b, c]`; `HostRegexp` is skipped (not a name).
    public static func hosts(in rule: String) -> [String] {
        guard let matcher = try? NSRegularExpression(pattern: #"\b(Host|HostSNI)\s*\(([^)]*)\)"#) else { return [] }
        var hosts: [String] = []
        let nsRule = rule as NSString
        for match in matcher.matches(in: rule, range: NSRange(location: 0, length: nsRule.length)) {
            let arguments = nsRule.substring(with: match.range(at: 2))
            for part in arguments.split(separator: ",") {
                let host = part.trimmingCharacters(in: CharacterSet(charactersIn: " `\"'"))
                if !host.isEmpty, host != "*" { hosts.append(host.lowercased()) }
            }
        }
        return hosts
    }

    /// True when `pattern` (a certificate SAN, maybe `*.example.com`) covers `host`.
    public static func matches(_ pattern: String, host: String) -> Bool {
        let pattern = pattern.lowercased()
        let host = host.lowercased()
        if pattern == host { return true }
        guard pattern.hasPrefix("*.") else { return false }
        let suffix = pattern.dropFirst(1)
        guard host.hasSuffix(suffix) else { return false }
        return !host.dropLast(suffix.count).contains(".") && host.count > suffix.count
    }
}
