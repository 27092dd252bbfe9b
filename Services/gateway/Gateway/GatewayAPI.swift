import Foundation
import Hummingbird
import MCP
import MCPShared
import NIOCore
import ServiceKit

/// The REST side of the gateway: the shard registry and the seed's tool-call form.
struct GatewayAPI {
    let catalog: Catalog
    let maxBodyBytes: Int
    let auth: BearerAuth
    let profiles: [GatewayProfile]
    let publicURL: String
    let internalURL: String

    struct ShardSummary: Codable {
        let name: String
        let endpoint: String
        let status: HealthStatus
        let tools: [String]
        let lastProbe: Date?
        let latencyMs: Double?
        let lastError: String?

        enum CodingKeys: String, CodingKey {
            case name, endpoint, status, tools
            case lastProbe = "last_probe"
            case latencyMs = "latency_ms"
            case lastError = "last_error"
        }
    }

    struct ShardList: Codable {
        let shards: [ShardSummary]
    }

    func addRoutes(to router: Router<some Hummingbird.RequestContext>) {
        let api = router.group("/api/v1").add(middleware: BearerMiddleware(auth: auth))
        api.get("shards") { _, _ in
            try JSONResponse.make(ShardList(shards: await shardSummaries()))
        }
        api.get("clients/{profile}") { _, context -> Response in
            let name = try context.parameters.require("profile")
            guard let profile = profiles.first(where: { $0.name == name }) else {
                throw ServiceError(.notFound, "no profile named '\(name)'; profiles: \(profiles.map(\.name).joined(separator: ", "))")
            }
            let snippets = ClientSnippets.make(profile: profile, publicURL: publicURL, internalURL: internalURL)
            return ProfileEndpoints.json(try JSONSerialization.data(withJSONObject: snippets, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
        }
        api.post("mcp/{shard}/tools/{tool}") { request, context -> Response in
            let shard = try context.parameters.require("shard")
            let tool = try context.parameters.require("tool")
            // A name that was never registered is the caller's mistake (404), not a shard that is down (502).
            guard catalog.connection(named: shard) != nil else {
                throw ServiceError(.notFound, "no shard named '\(shard)'; GET /api/v1/shards lists the shards")
            }
            let body = try await request.collectBody(upTo: maxBodyBytes)
            let arguments: Data?
            if body.readableBytes == 0 {
                arguments = nil
            } else {
                guard let object = ShardToolResult.argumentsObject(Data(body.readableBytesView)) else {
                    throw ServiceError(.badRequest, "the body must be a JSON object of tool arguments")
                }
                arguments = object
            }
            do {
                // The shard's result, unchanged.
                let result = try await catalog.call(shard: shard, tool: tool, arguments: arguments, meta: nil)
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: result.json)))
            } catch let error as MCPError {
                throw ServiceError(Self.status(for: error), error.errorDescription ?? "\(error)")
            }
        }
    }

    func shardSummaries() async -> [ShardSummary] {
        var summaries: [ShardSummary] = []
        for connection in catalog.shardConnections {
            let (health, tools, _, _) = await connection.state
            summaries.append(ShardSummary(
                name: health.name, endpoint: connection.endpoint.url, status: health.status,
                tools: tools.map(\.name), lastProbe: health.lastProbe,
                latencyMs: health.latencyMs, lastError: health.lastError))
        }
        return summaries
    }

    static func status(for error: MCPError) -> HTTPResponse.Status {
        switch error.code {
        case -32602, -32600, -32700: .badRequest
        case -32601: .notFound
        case -32001: .gatewayTimeout
        case -32002: .badGateway
        default: .internalServerError
        }
    }
}

/// Bearer auth for the REST API, with the default profile's tokens.
struct BearerMiddleware<Context: Hummingbird.RequestContext>: RouterMiddleware {
    let auth: BearerAuth

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if case .denied(let message) = auth.check(request.headers[.authorization]) {
            throw ServiceError(.unauthorized, message)
        }
        return try await next(request, context)
    }
}
