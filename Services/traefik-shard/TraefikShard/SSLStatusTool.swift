import Foundation
import MCP
import ShardKit

/// `check_ssl_status`: which certificate each TLS host gets, and how long it stays valid.
enum SSLStatusTool {
    struct HostCertificate: Encodable, Sendable {
        let host: String
        let routers: [String]
        let source: String
        let status: String
        let subject: String?
        let sans: [String]
        let issuer: String?
        let notAfter: String?
        let daysLeft: Int?
        let message: String?
    }

    struct Report: Encodable, Sendable {
        let count: Int
        let warnDays: Int
        let hosts: [HostCertificate]
    }

    static let defaultCertificateName = "TRAEFIK DEFAULT CERT"

    static func make(_ context: TraefikContext) -> ShardTool {
        ShardTool(
            name: "check_ssl_status",
            title: "Check TLS certificates",
            description: """
                For every TLS host in Traefik's routers (or one given host): the certificate served, its subject, SANs, issuer, \
                expiry date and days left, with status ok, warning (fewer than warn_days left), expired, or missing (Traefik \
                would serve its self-signed default certificate). Reads Traefik's /api/certificates (Traefik 3.7+) or does a \
                TLS handshake to the HTTPS entry point.
                """,
            inputSchema: JSONSchema.object([
                "host": JSONSchema.string("Check only this host name, e.g. grafana.example.com."),
                "source": JSONSchema.string("Where to read certificates: auto (API, else handshake), api, or handshake.", enum: ["auto", "api", "handshake"], default: "auto"),
                "warn_days": JSONSchema.integer("Warn when fewer days than this are left (default 30).", minimum: 1, maximum: 365),
            ]),
            annotations: .init(title: "Check TLS certificates", readOnlyHint: true, openWorldHint: true)
        ) { arguments in
            let source = try arguments.string("source") ?? "auto"
            guard ["auto", "api", "handshake"].contains(source) else { throw ToolInputError("'source' must be auto, api or handshake") }
            let warnDays = try arguments.int("warn_days", in: 1...365) ?? 30
            let onlyHost = try arguments.string("host").map(RouteInput.host)
            let raw = try await context.api.rawData()
            var routersByHost: [String: [String]] = [:]
            for (name, router) in raw.routers.merging(raw.tcpRouters, uniquingKeysWith: { first, _ in first }) where router.tls != nil && !name.hasSuffix("@internal") {
                for host in router.hosts { routersByHost[host, default: []].append(name) }
            }
            if let onlyHost { routersByHost = [onlyHost: routersByHost[onlyHost] ?? []] }
            guard !routersByHost.isEmpty else {
                return try .json(Report(count: 0, warnDays: warnDays, hosts: []))
            }
            var certificates: [TraefikCertificate]?
            if source != "handshake" { certificates = try await context.api.certificates() }
            if source == "api", certificates == nil {
                return .failure("This Traefik does not serve /api/certificates (it needs Traefik 3.7 or newer); use source handshake with TRAEFIK_HTTPS_ADDR set.")
            }
            var rows: [HostCertificate] = []
            for (host, routers) in routersByHost.sorted(by: { $0.key < $1.key }) {
                let sortedRouters = routers.sorted()
                if let certificates {
                    rows.append(fromAPI(host, sortedRouters, certificates, warnDays: warnDays))
                } else {
                    rows.append(await fromHandshake(host, sortedRouters, context, warnDays: warnDays))
                }
            }
            return try .json(Report(count: rows.count, warnDays: warnDays, hosts: rows))
        }
    }

    static func fromAPI(_ host: String, _ routers: [String], _ certificates: [TraefikCertificate], warnDays: Int) -> HostCertificate {
        let matching = certificates.filter { certificate in
            ((certificate.sans ?? []) + [certificate.commonName].compactMap { $0 }).contains { RuleHosts.matches($0, host: host) }
        }
        let formatter = ISO8601DateFormatter()
        guard let best = matching.max(by: { (formatter.date(from: $0.notAfter ?? "") ?? .distantPast) < (formatter.date(from: $1.notAfter ?? "") ?? .distantPast) }) else {
            return HostCertificate(
                host: host, routers: routers, source: "api", status: "missing", subject: nil, sans: [], issuer: nil, notAfter: nil, daysLeft: nil,
                message: "no certificate in Traefik's store covers this host; clients get Traefik's self-signed default certificate (unless a cert resolver has not issued one yet)")
        }
        let notAfter = formatter.date(from: best.notAfter ?? "")
        return row(host, routers, source: "api", subject: best.commonName, sans: best.sans ?? [], issuer: best.issuerCN ?? best.issuerOrg, notAfter: notAfter, warnDays: warnDays)
    }

    static func fromHandshake(_ host: String, _ routers: [String], _ context: TraefikContext, warnDays: Int) async -> HostCertificate {
        guard let address = context.settings.httpsAddress.flatMap(HostPort.init) else {
            return HostCertificate(
                host: host, routers: routers, source: "handshake", status: "error", subject: nil, sans: [], issuer: nil, notAfter: nil, daysLeft: nil,
                message: "TRAEFIK_HTTPS_ADDR is not set, so the shard cannot do a TLS handshake with Traefik")
        }
        do {
            let leaf = try await TLSHandshake.leaf(host: address.host, port: address.port, serverName: host, timeout: context.settings.requestTimeout)
            if leaf.commonName == defaultCertificateName {
                return HostCertificate(
                    host: host, routers: routers, source: "handshake", status: "missing", subject: leaf.commonName, sans: leaf.sans, issuer: leaf.issuer,
                    notAfter: nil, daysLeft: nil, message: "Traefik served its self-signed default certificate: no certificate covers this host")
            }
            return row(host, routers, source: "handshake", subject: leaf.commonName, sans: leaf.sans, issuer: leaf.issuer, notAfter: leaf.notAfter, warnDays: warnDays)
        } catch {
            return HostCertificate(
                host: host, routers: routers, source: "handshake", status: "error", subject: nil, sans: [], issuer: nil, notAfter: nil, daysLeft: nil,
                message: "\(error)")
        }
    }

    static func row(_ host: String, _ routers: [String], source: String, subject: String?, sans: [String], issuer: String?, notAfter: Date?, warnDays: Int) -> HostCertificate {
        let daysLeft = notAfter.map { Int(floor($0.timeIntervalSinceNow / 86400)) }
        let status: String
        var message: String?
        switch daysLeft {
        case nil: status = "warning"; message = "expiry date unknown"
        case let days? where notAfter! < Date(): status = "expired"; message = "expired \(-days) days ago"
        case let days? where days < warnDays: status = "warning"; message = "expires in \(days) days"
        default: status = "ok"
        }
        return HostCertificate(
            host: host, routers: routers, source: source, status: status, subject: subject, sans: sans, issuer: issuer,
            notAfter: notAfter.map { ISO8601DateFormatter().string(from: $0) }, daysLeft: daysLeft, message: message)
    }
}
