import AsyncHTTPClient
import Foundation
import MCP
import NIOCore
import NIOHTTP1
import ServiceKit
import ShardKit

/// `get_backend_status`: Traefik's view of each load-balancer server, plus an active probe.
enum BackendStatusTool {
    struct Probe: Encodable, Sendable {
        let url: String
        let traefikStatus: String?
        let reachable: Bool
        let statusCode: Int?
        let latencyMs: Double?
        let error: String?
    }

    struct ServiceStatus: Encodable, Sendable {
        let service: String
        let status: String
        let usedBy: [String]
        let hasHealthCheck: Bool
        let note: String?
        let servers: [Probe]
    }

    struct Report: Encodable, Sendable {
        let count: Int
        let services: [ServiceStatus]
    }

    static func make(_ context: TraefikContext) -> ShardTool {
        ShardTool(
            name: "get_backend_status",
            title: "Check Traefik backends",
            description: """
                For each Traefik load-balancer service: Traefik's own server status (meaningless without a health check, \
                which is flagged) and a live HTTP probe of every backend URL from the shard (status code, latency, error), \
                run in parallel with a timeout. Filter by service name substring.
                """,
            inputSchema: JSONSchema.object([
                "service": JSONSchema.string("Only services whose name contains this text, e.g. grafana."),
                "probe": JSONSchema.boolean("Also send an HTTP GET to each backend URL.", default: true),
                "timeout_seconds": JSONSchema.number("Probe timeout per backend (default 3, at most 30)."),
            ]),
            annotations: .init(title: "Check Traefik backends", readOnlyHint: true, openWorldHint: true)
        ) { arguments in
            let filter = try arguments.string("service")?.lowercased()
            let probe = try arguments.bool("probe", default: true)
            let timeout = min(max(try arguments.double("timeout_seconds") ?? 3, 0.1), 30)
            let raw = try await context.api.rawData()
            let services = raw.services.filter { $0.value.loadBalancer != nil }
                .filter { entry in filter.map { entry.key.lowercased().contains($0) } ?? true }
                .sorted { $0.key < $1.key }
            let results = try await withThrowingTaskGroup(of: (Int, ServiceStatus).self) { group in
                for (index, (name, service)) in services.enumerated() {
                    group.addTask { (index, await status(name, service, probe: probe, timeout: timeout, http: context.http)) }
                }
                var collected: [(Int, ServiceStatus)] = []
                for try await result in group { collected.append(result) }
                return collected.sorted { $0.0 < $1.0 }.map(\.1)
            }
            return try .json(Report(count: results.count, services: results))
        }
    }

    static func status(_ name: String, _ service: TraefikService, probe: Bool, timeout: Double, http: HTTPClient) async -> ServiceStatus {
        let urls = (service.loadBalancer?.servers ?? []).compactMap { $0.url ?? $0.address }
        let hasHealthCheck = service.loadBalancer?.healthCheck != nil
        let probes = await withTaskGroup(of: (Int, Probe).self) { group in
            for (index, url) in urls.enumerated() {
                group.addTask {
                    let traefikStatus = service.serverStatus?[url]
                    guard probe else { return (index, Probe(url: url, traefikStatus: traefikStatus, reachable: false, statusCode: nil, latencyMs: nil, error: "not probed")) }
                    return (index, await probeURL(url, traefikStatus: traefikStatus, timeout: timeout, http: http))
                }
            }
            var collected: [(Int, Probe)] = []
            for await result in group { collected.append(result) }
            return collected.sorted { $0.0 < $1.0 }.map(\.1)
        }
        return ServiceStatus(
            service: name, status: service.status ?? "unknown", usedBy: service.usedBy ?? [], hasHealthCheck: hasHealthCheck,
            note: hasHealthCheck ? nil : "no healthCheck: Traefik reports every server as UP whether it answers or not; trust the probe instead",
            servers: probes)
    }

    static func probeURL(_ url: String, traefikStatus: String?, timeout: Double, http: HTTPClient) async -> Probe {
        let started = ContinuousClock.now
        func elapsed() -> Double { (ContinuousClock.now - started).milliseconds.rounded() }
        do {
            let request = HTTPClientRequest(url: url.replacingOccurrences(of: "h2c://", with: "http://"))
            let response = try await http.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            _ = try? await response.body.collect(upTo: 64 << 10)
            return Probe(url: url, traefikStatus: traefikStatus, reachable: true, statusCode: Int(response.status.code), latencyMs: elapsed(), error: nil)
        } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error) {
            return Probe(url: url, traefikStatus: traefikStatus, reachable: false, statusCode: nil, latencyMs: elapsed(), error: "no answer within \(timeout)s")
        } catch {
            return Probe(url: url, traefikStatus: traefikStatus, reachable: false, statusCode: nil, latencyMs: elapsed(), error: TraefikAPI.describe(error))
        }
    }
}
