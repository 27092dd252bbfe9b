import Foundation
import MCP
import ShardKit

/// `get_traefik_status`: is Traefik there, which version, and how many routers, services and
/// middlewares it runs with how many errors. The first tool a model should call.
enum StatusTool {
    struct Answer: Encodable, Sendable {
        let reachable: Bool
        let apiURL: String
        let version: String?
        let providers: [String]?
        let http: Overview.Section?
        let tcp: Overview.Section?
        let latencyMs: Int
        let problem: String?
    }

    static func make(_ context: TraefikContext) -> ShardTool {
        ShardTool(
            name: "get_traefik_status",
            title: "Traefik status",
            description: "Checks that Traefik's API answers and returns its version, providers and the number of HTTP/TCP routers, services and middlewares with their warning and error counts. Call this first when something about routing looks wrong.",
            inputSchema: JSONSchema.object([:]),
            annotations: .init(title: "Traefik status", readOnlyHint: true, openWorldHint: false)
        ) { _ in
            let started = ContinuousClock.now
            do {
                async let version = context.api.version()
                async let overview = context.api.overview()
                let (v, o) = try await (version, overview)
                return try .json(Answer(
                    reachable: true, apiURL: context.settings.apiURL, version: v.version, providers: o.providers, http: o.http, tcp: o.tcp,
                    latencyMs: milliseconds(since: started), problem: nil))
            } catch let error as TraefikAPIError {
                return try .json(Answer(
                    reachable: false, apiURL: context.settings.apiURL, version: nil, providers: nil, http: nil, tcp: nil,
                    latencyMs: milliseconds(since: started), problem: error.message))
            }
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        Int((ContinuousClock.now - start) / .milliseconds(1))
    }
}
