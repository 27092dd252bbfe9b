import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A Docker Engine API failure, with the daemon's own message.
struct DockerAPIError: Error, CustomStringConvertible {
    let description: String
}

/// The few Docker Engine API calls discovery makes, on AsyncHTTPClient (over the unix socket or TCP).
struct DockerClient: Sendable {
    /// The API version this client is written against (the spec in `shared/specs`).
    static let maximumVersion = APIVersion(1, 50)
    /// Older engines lack what discovery reads (label filters on events, `Networks` per container).
    static let minimumVersion = APIVersion(1, 40)

    let endpoint: DockerEndpoint
    let httpClient: HTTPClient
    let logger: Logger

    /// `GET /_ping` (header `Api-Version`), then `GET /vX/version` for `MinAPIVersion`: picks
    /// min(ours, daemon's) and fails clearly when the daemon refuses that.
    func negotiate() async throws -> APIVersion {
        let ping = try await send("/_ping", timeout: .seconds(5))
        guard ping.status == .ok else { throw DockerAPIError(description: "GET /_ping answered \(ping.status.code): \(Self.message(ping.body))") }
        guard let header = ping.headers.first(name: "Api-Version"), let daemonMax = APIVersion(header) else {
            throw DockerAPIError(description: "GET /_ping has no Api-Version header; is \(endpoint) a Docker Engine API?")
        }
        let version = Swift.min(Self.maximumVersion, daemonMax)
        guard version >= Self.minimumVersion else {
            throw DockerAPIError(description: "the Docker daemon speaks API \(daemonMax), discovery needs at least \(Self.minimumVersion)")
        }
        let info = try await send("/v\(version)/version", timeout: .seconds(5))
        if info.status == .badRequest {
            throw DockerAPIError(description: "the Docker daemon refuses API \(version) (\(Self.message(info.body))); discovery speaks \(Self.minimumVersion) to \(Self.maximumVersion)")
        }
        if info.status == .ok, let body = try? JSONDecoder().decode(VersionBody.self, from: Data(info.body.readableBytesView)),
            let minimum = body.minAPIVersion.flatMap(APIVersion.init), minimum > version {
            throw DockerAPIError(description: "the Docker daemon requires API \(minimum) or newer; discovery speaks up to \(Self.maximumVersion)")
        }
        return version
    }

    /// Running containers carrying `label` (`mcp.enable=true`).
    func listContainers(version: APIVersion, label: String) async throws -> [DockerContainer] {
        let filters = try Self.filters(["label": [label], "status": ["running"]])
        let response = try await send("/v\(version)/containers/json?filters=\(filters)", timeout: .seconds(10))
        guard response.status == .ok else {
            throw DockerAPIError(description: "GET /containers/json answered \(response.status.code): \(Self.message(response.body))")
        }
        do {
            return try JSONDecoder().decode([DockerContainer].self, from: Data(response.body.readableBytesView))
        } catch {
            throw DockerAPIError(description: "GET /containers/json returned JSON discovery cannot read: \(error)")
        }
    }

    /// Follows `GET /events` (container start/die/stop/kill/destroy with `label`), calling `onEvent`
    /// per line, until the daemon closes the stream (then throws) or the task is cancelled.
    func followEvents(version: APIVersion, label: String, since: Int64?, onEvent: (DockerEvent) async -> Void) async throws {
        let filters = try Self.filters(["type": ["container"], "event": ["start", "die", "stop", "kill", "destroy"], "label": [label]])
        var path = "/v\(version)/events?filters=\(filters)"
        if let since { path += "&since=\(since)" }
        var request = HTTPClientRequest(url: endpoint.url(path))
        request.headers.add(name: "Host", value: "docker")
        // The stream stays open for as long as the daemon runs.
        let response = try await httpClient.execute(request, timeout: .hours(24 * 365), logger: logger)
        guard response.status == .ok else {
            let body = try await response.body.collect(upTo: 64 << 10)
            throw DockerAPIError(description: "GET /events answered \(response.status.code): \(Self.message(body))")
        }
        var pending: [UInt8] = []
        for try await chunk in response.body {
            pending.append(contentsOf: chunk.readableBytesView)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[..<newline]
                pending.removeSubrange(...newline)
                guard !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) else { continue }
                do {
                    await onEvent(try JSONDecoder().decode(DockerEvent.self, from: Data(line)))
                } catch {
                    logger.warning("skipping an event discovery cannot read", metadata: ["error": "\(error)"])
                }
            }
        }
        throw DockerAPIError(description: "the Docker daemon closed the event stream")
    }

    private struct Reply {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    private struct VersionBody: Decodable {
        var minAPIVersion: String?
        enum CodingKeys: String, CodingKey { case minAPIVersion = "MinAPIVersion" }
    }

    private func send(_ path: String, timeout: TimeAmount) async throws -> Reply {
        var request = HTTPClientRequest(url: endpoint.url(path))
        // The socket ignores Host, but HTTP/1.1 requires one; a proxy on TCP gets its real host.
        if case .unix = endpoint.kind { request.headers.add(name: "Host", value: "docker") }
        let response: HTTPClientResponse
        do {
            response = try await httpClient.execute(request, timeout: timeout, logger: logger)
        } catch {
            throw DockerAPIError(description: "cannot reach the Docker API at \(endpoint): \(Self.explain(error))")
        }
        let body = try await response.body.collect(upTo: 16 << 20)
        return Reply(status: response.status, headers: response.headers, body: body)
    }

    /// Turns socket errors into what to fix.
    static func explain(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("ENOENT") || text.contains("No such file") { return "the socket does not exist (is /var/run/docker.sock mounted?)" }
        if text.contains("EACCES") || text.contains("Permission denied") { return "permission denied on the socket (run with the docker group, or use a socket proxy)" }
        if text.contains("ECONNREFUSED") || text.contains("Connection refused") || text.contains("connectionRefused") { return "connection refused" }
        return text
    }

    static func message(_ body: ByteBuffer) -> String {
        if let decoded = try? JSONDecoder().decode(DockerErrorBody.self, from: Data(body.readableBytesView)) { return decoded.message }
        return String(buffer: body).prefix(200).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Docker's `filters` query value: JSON `map[string][]string`, URL-encoded.
    static func filters(_ filters: [String: [String]]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(filters), as: UTF8.self)
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return json.addingPercentEncoding(withAllowedCharacters: allowed) ?? json
    }
}

/// A Docker API version such as 1.50, compared numerically (1.9 < 1.10).
struct APIVersion: Comparable, Sendable, CustomStringConvertible {
    let major: Int
    let minor: Int

    init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }

    init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ".")
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]) else { return nil }
        self.init(major, minor)
    }

    static func < (lhs: APIVersion, rhs: APIVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    var description: String { "\(major).\(minor)" }
}
