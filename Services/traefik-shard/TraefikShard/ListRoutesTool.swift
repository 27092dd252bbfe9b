import Foundation
import MCP
import ShardKit

/// `list_routes`: HTTP and TCP routers as Traefik runs them.
enum ListRoutesTool {
    struct Route: Encodable, Sendable {
        let name: String
        let kind: String
        let provider: String
        let rule: String?
        let hosts: [String]
        let entryPoints: [String]
        let service: String?
        let middlewares: [String]
        let tls: Bool
        let certResolver: String?
        let status: String
        let errors: [String]
        let managed: Bool
    }

    struct Listing: Encodable, Sendable {
        let count: Int
        let routes: [Route]
    }

    static func make(_ context: TraefikContext) -> ShardTool {
        ShardTool(
            name: "list_routes",
            title: "List Traefik routes",
            description: """
                Lists the HTTP and TCP routers Traefik is running, with rule, hosts, entry points, service, middlewares, TLS, \
                status and errors, and whether this shard manages the route (created with create_route). Filter by provider \
                (file, docker, internal...), host substring, or status (enabled, disabled, warning).
                """,
            inputSchema: JSONSchema.object([
                "provider": JSONSchema.string("Only routers from this provider, e.g. file or docker."),
                "host": JSONSchema.string("Only routers whose rule mentions a host containing this text."),
                "status": JSONSchema.string("Only routers with this status.", enum: ["enabled", "disabled", "warning"]),
                "include_internal": JSONSchema.boolean("Include Traefik's own @internal routers (API, dashboard, ping).", default: false),
            ]),
            annotations: .init(title: "List Traefik routes", readOnlyHint: true, openWorldHint: false)
        ) { arguments in
            let provider = try arguments.string("provider")?.lowercased()
            let host = try arguments.string("host")?.lowercased()
            let status = try arguments.string("status")?.lowercased()
            if let status, !["enabled", "disabled", "warning"].contains(status) {
                throw ToolInputError("'status' must be enabled, disabled or warning")
            }
            let includeInternal = try arguments.bool("include_internal", default: false) || provider == "internal"
            let raw = try await context.api.rawData()
            let owned = context.ownedNames()
            let routes = (raw.routers.map { route($0.key, $0.value, kind: "http", owned: owned) }
                + raw.tcpRouters.map { route($0.key, $0.value, kind: "tcp", owned: owned) })
                .filter { includeInternal || $0.provider != "internal" }
                .filter { provider == nil || $0.provider == provider }
                .filter { status == nil || $0.status == status }
                .filter { route in host.map { needle in route.hosts.contains { $0.contains(needle) } } ?? true }
                .sorted { ($0.kind, $0.name) < ($1.kind, $1.name) }
            return try .json(Listing(count: routes.count, routes: routes))
        }
    }

    static func route(_ fullName: String, _ router: TraefikRouter, kind: String, owned: Set<String>) -> Route {
        let (name, provider) = CreateRouteTool.split(fullName)
        let managed = provider == "file" && name.hasPrefix(RouteName.prefix) && owned.contains(String(name.dropFirst(RouteName.prefix.count)))
        return Route(
            name: fullName, kind: kind, provider: provider, rule: router.rule, hosts: router.hosts,
            entryPoints: router.entryPoints ?? [], service: router.service, middlewares: router.middlewares ?? [],
            tls: router.tls != nil, certResolver: router.tls?.certResolver, status: router.status ?? "unknown",
            errors: router.error ?? [], managed: managed)
    }
}
