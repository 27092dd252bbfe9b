import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A request to {{title}} that got no answer; the message is what a tool returns.
public struct {{Name}}APIError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

/// Client for {{title}}'s HTTP API. Every status is an answer (the tools decide what it means);
/// only "no answer" (down, slow, wrong address) is a ``{{Name}}APIError`` with a sentence a model
/// can act on. Secrets are sent, never logged or returned.
public struct {{Name}}API: Sendable {
    public struct Response: Sendable {
        public let status: Int
        public let headers: HTTPHeaders
        public let body: ByteBuffer

        /// The body as JSON, when it is JSON.
        public var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) }
    }

    public let baseURL: String
    public let statusPath: String
    let token: String?
    let client: HTTPClient
    let timeout: Duration

    public init(settings: {{Name}}Settings, client: HTTPClient, timeout: Duration) {
        self.baseURL = settings.url
        self.statusPath = settings.statusPath
        self.token = settings.apiToken
        self.client = client
        self.timeout = timeout
    }

    /// `GET <base URL><path>`, bodies up to 4 MiB.
    public func get(_ path: String) async throws -> Response {
        var request = HTTPClientRequest(url: baseURL + path)
        request.headers.add(name: "Accept", value: "application/json, text/plain;q=0.9, */*;q=0.5")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout / .nanoseconds(1))))
            let body = try await response.body.collect(upTo: 4 << 20)
            return Response(status: Int(response.status.code), headers: response.headers, body: body)
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error) {
            throw {{Name}}APIError(message: "{{title}} at \(baseURL) did not answer within \(timeout) ({{NAME}}_REQUEST_TIMEOUT); it may be overloaded or the address may be wrong.")
        } catch {
            let reason = "\(error)".contains("onnection refused") || "\(error)".contains("connectionRefused") ? "connection refused" : "\(error)"
            throw {{Name}}APIError(message: "{{title}} at \(baseURL) cannot be reached (\(reason)). Is it running, and is {{NAME}}_URL right?")
        }
    }
}
