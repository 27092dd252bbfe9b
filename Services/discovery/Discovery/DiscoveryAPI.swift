import Foundation
import HTTPTypes
import Hummingbird
import MCPShared
import NIOCore
import ServiceKit
import ServiceLifecycle

/// `GET /api/v1/servers` (the servers the gateway should use; `?all=true` adds unhealthy and
/// vanished ones) and `GET /api/v1/servers/feed`, a server-sent-events feed that sends the same
/// list as `event: servers` on connect and after every change, for gateways without Redis.
struct DiscoveryAPI {
    let registry: Registry
    let keepAlive: Duration

    func addRoutes(to router: Router<some Hummingbird.RequestContext>) {
        router.get("/api/v1/servers") { request, _ -> Response in
            let all = request.uri.queryParameters.get("all").map { ["1", "true", "yes"].contains($0.lowercased()) } ?? false
            let servers = all ? await registry.records(includeGone: true) : await registry.servable
            return try JSONResponse.make(ServerList(servers: servers))
        }
        router.get("/api/v1/servers/feed") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            return Response(status: .ok, headers: headers, body: feedBody())
        }
    }

    private func feedBody() -> ResponseBody {
        ResponseBody { [registry, keepAlive] writer in
            var sent: [String]?
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let seen = registry.signal.version
                let list = ServerList(servers: await registry.servable)
                if list.fingerprint != sent {
                    let json = String(decoding: try JSONResponse.encoder.encode(list), as: UTF8.self)
                    try await writer.write(ByteBuffer(string: "event: servers\ndata: \(json)\n\n"))
                    sent = list.fingerprint
                } else {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                }
                // Ends the wait at once on SIGTERM, so an open feed never holds the process up.
                try? await cancelWhenGracefulShutdown { await registry.signal.wait(after: seen, timeout: keepAlive) }
            }
            try await writer.finish(nil)
        }
    }
}
