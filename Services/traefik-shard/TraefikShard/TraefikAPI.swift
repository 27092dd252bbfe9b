import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ServiceKit

/// A request to Traefik's API that did not give a usable answer; the message is what a tool returns.
public struct TraefikAPIError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// Read-only client for Traefik's API (`GET` JSON). Every failure (down, slow, not Traefik)
/// becomes a ``TraefikAPIError`` with a sentence a model can act on.
public struct TraefikAPI: Sendable {
    public let baseURL: String
    let client: HTTPClient
    let timeout: Duration

    public init(baseURL: String, client: HTTPClient, timeout: Duration) {
        self.baseURL = TraefikSettings.trimmedURL(baseURL)
        self.client = client
        self.timeout = timeout
    }

    /// The whole runtime configuration.
    public func rawData() async throws -> RawData {
        try await get("/rawdata", as: RawData.self)
    }

    public func overview() async throws -> Overview {
        try await get("/overview", as: Overview.self)
    }

    public func version() async throws -> TraefikVersion {
        try await get("/version", as: TraefikVersion.self)
    }

    /// One HTTP router by its full name (`name@file`), or nil when Traefik does not know it.
    public func httpRouter(_ fullName: String) async throws -> TraefikRouter? {
        let escaped = fullName.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? fullName
        return try await get("/http/routers/" + escaped, as: TraefikRouter.self, notFoundIsNil: true)
    }

    /// `/api/certificates` (Traefik 3.7+), all pages; nil when this Traefik does not serve it.
    public func certificates() async throws -> [TraefikCertificate]? {
        var all: [TraefikCertificate] = []
        var page = 1
        while true {
            let (body, nextPage) = try await fetch("/certificates?per_page=100&page=\(page)", notFoundIsNil: true)
            guard let body else { return nil }
            all += try decode([TraefikCertificate].self, from: body, path: "/certificates")
            guard let nextPage, nextPage > page else { return all }
            page = nextPage
        }
    }

    func get<T: Decodable>(_ path: String, as type: T.Type, notFoundIsNil: Bool = false) async throws -> T? {
        let (body, _) = try await fetch(path, notFoundIsNil: notFoundIsNil)
        guard let body else { return nil }
        return try decode(type, from: body, path: path)
    }

    func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        let (body, _) = try await fetch(path, notFoundIsNil: false)
        return try decode(type, from: body ?? ByteBuffer(), path: path)
    }

    private func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer, path: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body.readableBytesView))
        } catch {
            let preview = String(buffer: body).prefix(160).replacingOccurrences(of: "\n", with: " ")
            throw TraefikAPIError(message: "Traefik's API at \(baseURL)\(path) answered with something that is not the JSON Traefik sends (is TRAEFIK_API_URL right?). It began: \(preview.isEmpty ? "(empty body)" : String(preview))")
        }
    }

    /// The body (nil on 404 when allowed) and the `X-Next-Page` header.
    private func fetch(_ path: String, notFoundIsNil: Bool) async throws -> (ByteBuffer?, Int?) {
        let url = baseURL + path
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let amount = TimeAmount.nanoseconds(Int64(timeout / .nanoseconds(1)))
        do {
            let response = try await client.execute(request, timeout: amount)
            let body = try await response.body.collect(upTo: 32 << 20)
            if response.status == .notFound, notFoundIsNil { return (nil, nil) }
            guard response.status == .ok else {
                let text = String(buffer: body).prefix(300)
                throw TraefikAPIError(message: "Traefik's API at \(url) answered HTTP \(response.status.code): \(text)")
            }
            return (body, response.headers.first(name: "X-Next-Page").flatMap(Int.init))
        } catch let error as TraefikAPIError {
            throw error
        } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error) {
            throw TraefikAPIError(message: "Traefik's API at \(baseURL) did not answer within \(Self.seconds(timeout)) (TRAEFIK_REQUEST_TIMEOUT); Traefik may be overloaded or the address may be wrong.")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw TraefikAPIError(message: "Traefik's API at \(baseURL) cannot be reached (\(Self.describe(error))). Is Traefik running and TRAEFIK_API_URL right?")
        }
    }

    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        if text.contains("remoteConnectionClosed") { return "the connection was closed before an answer" }
        return text
    }

    static func seconds(_ duration: Duration) -> String {
        let value = duration.seconds
        return value == value.rounded() ? "\(Int(value))s" : String(format: "%.1fs", value)
    }
}
