import Foundation
import Yams

/// Strict checks for dynamic-configuration YAML, for what Traefik's file provider rejects
/// silently (it keeps its last good configuration and logs the error): YAML syntax, Go template
/// braces, empty maps, unknown keys in routers and load-balancer services, middlewares that are not
/// exactly one known type. Anything else (TCP, UDP, TLS, middleware options) is checked for syntax
/// only; `TRAEFIK_VALIDATOR` covers the rest.
enum DynamicConfigChecker {
    /// Problems found, each naming where; empty means the snippet passed.
    static func check(_ text: String) -> [String] {
        var problems: [String] = []
        if text.contains("{{") || text.contains("}}") {
            problems.append("contains '{{' or '}}': Traefik reads files as Go templates, so this would fail to parse")
        }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { return problems + ["the file is empty: Traefik rejects an empty configuration"] }
            root = node
        } catch {
            return problems + ["YAML syntax error: \(error)"]
        }
        // Aliases share their anchor's node, so a few hundred bytes of nested aliases expand to
        // billions of nodes (a "billion laughs"): a walk over them took minutes of CPU.
        guard nodeCount(root, upTo: maxNodes) <= maxNodes else {
            return problems + ["the YAML expands to more than \(maxNodes) values once its aliases (*name) are resolved; a Traefik configuration is far smaller: write it without nested aliases"]
        }
        checkNoEmpty(root, path: "", into: &problems)
        guard let top = root.mapping else { return problems + ["the top level must be a map (http:, tcp:, udp:, tls:)"] }
        for (key, value) in top {
            let name = key.string ?? "?"
            switch name {
            case "http": checkHTTP(value, into: &problems)
            case "tcp", "udp", "tls": break
            default: problems.append("unknown top-level key '\(name)' (allowed: http, tcp, udp, tls)")
            }
        }
        return problems
    }

    static let routerKeys: Set<String> = ["rule", "ruleSyntax", "entryPoints", "service", "middlewares", "priority", "tls", "observability", "parentRefs"]
    static let routerTLSKeys: Set<String> = ["certResolver", "options", "domains"]
    static let serviceKinds: Set<String> = ["loadBalancer", "weighted", "mirroring", "failover", "highestRandomWeight"]
    static let loadBalancerKeys: Set<String> = ["servers", "passHostHeader", "healthCheck", "passiveHealthCheck", "sticky", "responseForwarding", "serversTransport", "strategy"]
    static let serverKeys: Set<String> = ["url", "weight", "preservePath"]
    static let healthCheckKeys: Set<String> = ["scheme", "mode", "path", "method", "status", "port", "interval", "unhealthyInterval", "timeout", "hostname", "followRedirects", "headers"]
    static let middlewareTypes: Set<String> = [
        "addPrefix", "basicAuth", "buffering", "chain", "circuitBreaker", "compress", "contentType", "digestAuth", "encodedCharacters",
        "errors", "forwardAuth", "grpcWeb", "headers", "ipAllowList", "ipWhiteList", "inFlightReq", "passTLSClientCert", "plugin",
        "rateLimit", "redirectRegex", "redirectScheme", "replacePath", "replacePathRegex", "retry", "stripPrefix", "stripPrefixRegex",
    ]

    private static func checkHTTP(_ node: Node, into problems: inout [String]) {
        guard let http = node.mapping else { return problems.append("'http' must be a map") }
        for (key, value) in http {
            let section = key.string ?? "?"
            switch section {
            case "routers": for (name, entry) in entries(value, "http.routers", into: &problems) { checkRouter(name, entry, into: &problems) }
            case "services": for (name, entry) in entries(value, "http.services", into: &problems) { checkService(name, entry, into: &problems) }
            case "middlewares": for (name, entry) in entries(value, "http.middlewares", into: &problems) { checkMiddleware(name, entry, into: &problems) }
            case "serversTransports": break
            default: problems.append("unknown key 'http.\(section)' (allowed: routers, services, middlewares, serversTransports)")
            }
        }
    }

    private static func entries(_ node: Node, _ path: String, into problems: inout [String]) -> [(String, Node.Mapping)] {
        guard let entries = node.mapping else {
            problems.append("'\(path)' must be a map of names")
            return []
        }
        var result: [(String, Node.Mapping)] = []
        for (key, value) in entries {
            let name = "\(path).\(key.string ?? "?")"
            guard let mapping = value.mapping else {
                problems.append("'\(name)' must be a map")
                continue
            }
            result.append((name, mapping))
        }
        return result
    }

    private static func checkRouter(_ path: String, _ router: Node.Mapping, into problems: inout [String]) {
        unknownKeys(router, allowed: routerKeys, path: path, into: &problems)
        if router["rule"]?.string == nil { problems.append("'\(path).rule' is missing or not a string") }
        if router["service"]?.string == nil { problems.append("'\(path).service' is missing or not a string") }
        for list in ["entryPoints", "middlewares"] {
            if let value = router[list], !isStringList(value) { problems.append("'\(path).\(list)' must be a list of strings") }
        }
        if let priority = router["priority"], priority.int == nil { problems.append("'\(path).priority' must be a whole number") }
        if let tls = router["tls"] {
            if let mapping = tls.mapping { unknownKeys(mapping, allowed: routerTLSKeys, path: path + ".tls", into: &problems) }
            else { problems.append("'\(path).tls' must be a map") }
        }
    }

    private static func checkService(_ path: String, _ service: Node.Mapping, into problems: inout [String]) {
        let kinds = service.keys.compactMap(\.string)
        guard kinds.count == 1, let kind = kinds.first, serviceKinds.contains(kind) else {
            return problems.append("'\(path)' must have exactly one of \(serviceKinds.sorted().joined(separator: ", ")), got \(kinds)")
        }
        guard kind == "loadBalancer" else { return }
        guard let balancer = service["loadBalancer"]?.mapping else { return problems.append("'\(path).loadBalancer' must be a map") }
        unknownKeys(balancer, allowed: loadBalancerKeys, path: path + ".loadBalancer", into: &problems)
        if let servers = balancer["servers"] {
            guard let list = servers.sequence else { return problems.append("'\(path).loadBalancer.servers' must be a list") }
            for (index, server) in list.enumerated() {
                guard let mapping = server.mapping else {
                    problems.append("'\(path).loadBalancer.servers[\(index)]' must be a map with url")
                    continue
                }
                unknownKeys(mapping, allowed: serverKeys, path: "\(path).loadBalancer.servers[\(index)]", into: &problems)
            }
        }
        if let health = balancer["healthCheck"]?.mapping {
            unknownKeys(health, allowed: healthCheckKeys, path: path + ".loadBalancer.healthCheck", into: &problems)
        }
    }

    private static func checkMiddleware(_ path: String, _ middleware: Node.Mapping, into problems: inout [String]) {
        let types = middleware.keys.compactMap(\.string)
        guard types.count == 1, let type = types.first else {
            return problems.append("'\(path)' must have exactly one middleware type, got \(types)")
        }
        if !middlewareTypes.contains(type) { problems.append("'\(path)': unknown middleware type '\(type)'") }
    }

    private static func unknownKeys(_ mapping: Node.Mapping, allowed: Set<String>, path: String, into problems: inout [String]) {
        for key in mapping.keys {
            let name = key.string ?? "?"
            if !allowed.contains(name) { problems.append("unknown key '\(path).\(name)' (Traefik rejects the whole file)") }
        }
    }

    private static func isStringList(_ node: Node) -> Bool {
        guard let list = node.sequence else { return false }
        return list.allSatisfy { $0.scalar != nil }
    }

    /// More than any real dynamic configuration holds (a thousand routers with their services
    /// are some tens of thousands of values).
    static let maxNodes = 200_000

    /// The nodes under `node`, aliases counted every time they are used; stops past `limit`.
    static func nodeCount(_ node: Node, upTo limit: Int) -> Int {
        // Counted as they are queued, so the queue never holds more than `limit` nodes either.
        var count = 1
        var pending = [node]
        while let next = pending.popLast(), count <= limit {
            switch next {
            case .mapping(let mapping):
                count += 2 * mapping.count
                if count <= limit { for (key, value) in mapping { pending.append(key); pending.append(value) } }
            case .sequence(let sequence):
                count += sequence.count
                if count <= limit { pending.append(contentsOf: sequence) }
            default: break
            }
        }
        return count
    }

    private static func checkNoEmpty(_ node: Node, path: String, into problems: inout [String]) {
        switch node {
        case .mapping(let mapping):
            if mapping.isEmpty { problems.append("'\(path.isEmpty ? "(top level)" : path)' is an empty map, which Traefik rejects") }
            for (key, value) in mapping {
                let child = path.isEmpty ? (key.string ?? "?") : "\(path).\(key.string ?? "?")"
                if case .scalar(let scalar) = value, scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null", scalar.style == .plain {
                    problems.append("'\(child)' has no value")
                }
                checkNoEmpty(value, path: child, into: &problems)
            }
        case .sequence(let sequence):
            for (index, value) in sequence.enumerated() { checkNoEmpty(value, path: "\(path)[\(index)]", into: &problems) }
        default:
            break
        }
    }
}
