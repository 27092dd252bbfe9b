import Foundation
import MCP
import ShardKit

/// `get_traefik_docs`: the part of Traefik's documentation about a topic.
enum DocsTool {
    /// Topic → page path under `TRAEFIK_DOCS_URL` (MkDocs: the markdown path without `.md`, plus `/`).
    static let pages: [String: String] = [
        "routers": "reference/routing-configuration/http/routing/router/",
        "rules": "reference/routing-configuration/http/routing/rules-and-priority/",
        "services": "reference/routing-configuration/http/load-balancing/service/",
        "health checks": "reference/routing-configuration/http/load-balancing/service/",
        "middlewares": "reference/routing-configuration/http/middlewares/overview/",
        "tls": "reference/routing-configuration/http/tls/overview/",
        "acme": "reference/install-configuration/tls/certificate-resolvers/acme/",
        "file provider": "reference/install-configuration/providers/others/file/",
        "docker provider": "reference/install-configuration/providers/docker/",
        "docker labels": "reference/routing-configuration/other-providers/docker/",
        "api": "reference/install-configuration/api-dashboard/",
        "entrypoints": "reference/install-configuration/entrypoints/",
    ]

    static let aliases: [String: String] = [
        "router": "routers", "rule": "rules", "priority": "rules", "service": "services", "load balancer": "services",
        "healthcheck": "health checks", "health check": "health checks", "middleware": "middlewares", "certificates": "tls",
        "letsencrypt": "acme", "let's encrypt": "acme", "certresolver": "acme", "file": "file provider", "docker": "docker provider",
        "dashboard": "api", "entrypoint": "entrypoints", "entry points": "entrypoints",
    ]

    /// Middleware names with their own page (`…/http/middlewares/<name>/`).
    static let middlewares: Set<String> = DynamicConfigChecker.middlewareTypes.subtracting(["ipWhiteList", "plugin", "encodedCharacters"]).union(["ipallowlist"])


    static func make(_ context: TraefikContext) -> ShardTool {
        let topics = (pages.keys.sorted() + ["middleware:<name> (e.g. middleware:basicAuth)"]).joined(separator: ", ")
        return ShardTool(
            name: "get_traefik_docs",
            title: "Read Traefik documentation",
            description: "Fetches the official Traefik documentation page for a topic and returns the part about it. Topics: \(topics). A middleware name alone (basicAuth, stripPrefix, headers...) also works.",
            inputSchema: JSONSchema.object([
                "topic": JSONSchema.string("What to read about, e.g. routers, rules, health checks, tls, acme, file provider, basicAuth."),
                "focus": JSONSchema.string("Optional word or phrase to narrow the answer to one section, e.g. priority or certResolver."),
            ], required: ["topic"]),
            annotations: .init(title: "Read Traefik docs", readOnlyHint: true, openWorldHint: true)
        ) { arguments in
            let topic = try arguments.requiredString("topic")
            let focus = try arguments.string("focus")
            guard let path = page(for: topic) else {
                throw ToolInputError("unknown topic '\(topic)'. Known topics: \(topics)")
            }
            return try await context.docs.answer(topic: topic, path: path, focus: focus, setting: "TRAEFIK_DOCS_URL")
        }
    }

    static func page(for topic: String) -> String? {
        var key = topic.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: "-", with: " ")
        if key.hasPrefix("middleware:") { key = String(key.dropFirst("middleware:".count)).trimmingCharacters(in: .whitespaces) }
        key = aliases[key] ?? key
        if let path = pages[key] { return path }
        let compact = key.replacingOccurrences(of: " ", with: "")
        if let name = middlewares.first(where: { $0.lowercased() == compact }) {
            return "reference/routing-configuration/http/middlewares/\(name.lowercased())/"
        }
        return nil
    }
}
