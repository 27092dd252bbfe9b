import AsyncHTTPClient
import Foundation
import Logging
import MCP
import NIOCore
import NIOHTTP1
import Synchronization

/// Why a request to an MCP server over HTTP failed.
public enum MCPClientTransportError: Error, CustomStringConvertible, Sendable {
    /// The server no longer knows the session (HTTP 404 with a session id): initialize again.
    case sessionExpired
    /// The server answered with an HTTP error; `message` is its body, shortened.
    case http(status: Int, message: String)
    /// The response was neither JSON nor an event stream.
    case unexpectedContentType(String)
    case closed
    /// The answer to a request ended without the response to it.
    case noResponse(String)
    /// The answer is larger than the transport accepts.
    case tooLarge(limit: Int)

    public var description: String {
        switch self {
        case .sessionExpired: "the MCP session expired on the server"
        case .http(let status, let message): "HTTP \(status)\(message.isEmpty ? "" : ": \(message)")"
        case .unexpectedContentType(let type): "unexpected response content type '\(type)'"
        case .closed: "the transport is closed"
        case .noResponse(let id): "the server's answer ended without a response to request \(id)"
        case .tooLarge(let limit): "the server's answer is larger than \(limit) bytes"
        }
    }
}

/// An MCP Streamable HTTP client transport on AsyncHTTPClient, for the SDK's `Client`.
///
/// The SDK's `HTTPClientTransport` is URLSession-based and cannot read SSE on Linux, so it cannot
/// talk to a stateful server; this one POSTs each message, reads a JSON or `text/event-stream`
/// answer as it arrives (progress notifications reach the client before the result), keeps
/// `Mcp-Session-Id` and `MCP-Protocol-Version`, and ends the session with DELETE on disconnect.
/// POSTs to a plain `http://` endpoint (a shard on the Compose network) go through `HTTP1Client`
/// instead, the gateway's hot path (see its comment for why); `https://` stays on AsyncHTTPClient.
///
/// ```swift
/// let transport = StreamableHTTPClientTransport(endpoint: "http://127.0.0.1:9110/mcp", httpClient: .shared)
/// let client = Client(name: "gateway", version: "1.0")
/// try await client.connect(transport: transport)
/// let tools = try await client.listTools()
/// ```
public actor StreamableHTTPClientTransport: Transport {
    public nonisolated let logger: Logger
    public nonisolated let endpoint: String
    private let httpClient: HTTPClient
    /// Where POSTs go through `plainHTTPClient`; nil for `https://` endpoints.
    private nonisolated let plainTarget: HTTP1Target?
    private nonisolated let plainHTTPClient: HTTP1Client?
    /// Whether `exchange` enforces its `timeout` itself (plain-http endpoints); otherwise callers
    /// put their own deadline around it.
    public nonisolated var enforcesExchangeTimeout: Bool { plainTarget != nil && plainHTTPClient != nil }
    private let extraHeaders: [(String, String)]
    private let requestTimeout: TimeAmount
    private let maxResponseBytes: Int
    private var sessionID: String? { didSet { publishPostHeaders() } }
    private var protocolVersion: String? { didSet { publishPostHeaders() } }
    /// The headers the next POST carries, readable without an actor hop (`plainPost`); nil once
    /// closed.
    private nonisolated let postHeaders: Mutex<HTTPHeaders?>
    private let incoming: AsyncThrowingStream<Data, any Error>
    private let incomingContinuation: AsyncThrowingStream<Data, any Error>.Continuation
    private var closed = false

    public init(
        endpoint: String, httpClient: HTTPClient, plainHTTPClient: HTTP1Client? = .shared, headers: [(String, String)] = [],
        requestTimeout: Duration = .seconds(60), maxResponseBytes: Int = 16 << 20, logger: Logger? = nil
    ) {
        self.endpoint = endpoint
        self.httpClient = httpClient
        self.plainHTTPClient = plainHTTPClient
        self.plainTarget = plainHTTPClient == nil ? nil : HTTP1Target(url: endpoint)
        self.extraHeaders = headers
        self.requestTimeout = TimeAmount(requestTimeout)
        self.maxResponseBytes = maxResponseBytes
        self.logger = logger ?? Logger(label: "mcp.client.http", factory: { _ in SwiftLogNoOpLogHandler() })
        (incoming, incomingContinuation) = AsyncThrowingStream<Data, any Error>.makeStream()
        self.postHeaders = Mutex(Self.postHeaders(sessionID: nil, protocolVersion: nil, extra: headers))
    }

    private static func postHeaders(sessionID: String?, protocolVersion: String?, extra: [(String, String)]) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "application/json, text/event-stream")
        if let sessionID { headers.add(name: HTTPHeaderName.sessionID, value: sessionID) }
        if let protocolVersion { headers.add(name: HTTPHeaderName.protocolVersion, value: protocolVersion) }
        for (name, value) in extra { headers.add(name: name, value: value) }
        return headers
    }

    private func publishPostHeaders() {
        let headers = closed ? nil : Self.postHeaders(sessionID: sessionID, protocolVersion: protocolVersion, extra: extraHeaders)
        postHeaders.withLock { $0 = headers }
    }

    public var currentSessionID: String? { sessionID }

    public func connect() async throws {}

    public func disconnect() async {
        guard !closed else { return }
        closed = true
        publishPostHeaders()
        incomingContinuation.finish()
        guard let sessionID else { return }
        var request = HTTPClientRequest(url: endpoint)
        request.method = .DELETE
        request.headers.add(name: HTTPHeaderName.sessionID, value: sessionID)
        if let protocolVersion { request.headers.add(name: HTTPHeaderName.protocolVersion, value: protocolVersion) }
        // Best effort: the server reaps idle sessions anyway.
        _ = try? await httpClient.execute(request, timeout: .seconds(2))
    }

    public func receive() -> AsyncThrowingStream<Data, any Error> { incoming }

    public func send(_ data: Data) async throws {
        try await post(data) { deliver($0) }
    }

    /// Sends one JSON-RPC request and returns its response, read straight off the HTTP answer
    /// instead of through the SDK `Client`'s message loop (two task hand-offs fewer per call: the
    /// gateway's hot path). Every other message of the same answer (progress, server requests)
    /// goes to `other` first, in order, so it always arrives before the result does.
    ///
    /// `timeout` bounds the whole answer, failing with `HTTP1ClientError.timeout`, where
    /// `enforcesExchangeTimeout`; elsewhere callers put their own deadline around the call (the
    /// transport's request timeout covers only the answer's head).
    public func exchange(_ data: Data, id: String, timeout: Duration? = nil, other: (Data) async -> Void) async throws -> JSONRPCResponse {
        var response: JSONRPCResponse?
        try await post(data, wholeResponseTimeout: timeout) { message in
            if response == nil, let answer = JSONRPCResponse(message, to: id) { response = answer } else { await other(message) }
        }
        guard let response else { throw MCPClientTransportError.noResponse(id) }
        return response
    }

    /// Whether `post(_:on:timeout:)` can send now: the endpoint is plain http and the session open.
    public nonisolated var postsFromEventLoop: Bool {
        plainTarget != nil && plainHTTPClient != nil && postHeaders.withLock { $0 != nil }
    }

    /// POSTs one message as `exchange` would, for a caller on `eventLoop` (a channel handler; no
    /// Swift task in between); `timeout` covers the whole answer. Nil when `postsFromEventLoop`
    /// is false. Read the answer with `response(in:to:)`.
    public nonisolated func post(_ message: ByteBuffer, on eventLoop: any EventLoop, timeout: Duration) -> HTTP1PendingResponse? {
        guard let plainTarget, let plainHTTPClient, let headers = postHeaders.withLock({ $0 }) else { return nil }
        return plainHTTPClient.send(
            HTTP1Request(target: plainTarget, method: .POST, headers: headers, body: message), on: eventLoop, timeout: timeout,
            maxResponseBytes: maxResponseBytes)
    }

    /// Reads a whole answer to a `post(_:on:timeout:)` as `exchange` reads one: the response to `id` and
    /// every other message of the answer, in order. A 404 throws `.sessionExpired` without
    /// forgetting the session (the next `exchange` does that, and initializes again).
    public nonisolated func response(in answer: HTTP1CollectedResponse, to id: String) throws -> (response: JSONRPCResponse, others: [Data]) {
        let status = Int(answer.status.code)
        if status == 404 { throw MCPClientTransportError.sessionExpired }
        guard (200..<300).contains(status) else {
            throw MCPClientTransportError.http(status: status, message: Self.errorMessage(fromBody: String(buffer: answer.body)))
        }
        var messages: [Data] = []
        switch Self.bodyKind(status: status, headers: answer.headers) {
        case .none: break
        case .eventStream:
            var parser = SSEParser()
            messages = parser.feed(answer.body.readableBytesView).filter { !$0.data.isEmpty }.map { Data($0.data.utf8) }
            if let last = parser.finish(), !last.data.isEmpty { messages.append(Data(last.data.utf8)) }
        case .json:
            if answer.body.readableBytes > 0 { messages = [Data(answer.body.readableBytesView)] }
        case .unexpected(let contentType):
            if answer.body.readableBytes > 0 { throw MCPClientTransportError.unexpectedContentType(contentType) }
        }
        var response: JSONRPCResponse?
        var others: [Data] = []
        for message in messages {
            if response == nil, let answer = JSONRPCResponse(message, to: id) { response = answer } else { others.append(message) }
        }
        guard let response else { throw MCPClientTransportError.noResponse(id) }
        return (response, others)
    }

    /// How an answer's body carries its messages (the same for streamed and collected answers).
    private enum BodyKind {
        case none, eventStream, json
        case unexpected(String)
    }

    private static func bodyKind(status: Int, headers: HTTPHeaders) -> BodyKind {
        if status == 202 { return .none }
        let contentType = headers.first(name: "Content-Type")?.lowercased() ?? ""
        if contentType.hasPrefix("text/event-stream") { return .eventStream }
        if contentType.hasPrefix("application/json") { return .json }
        return .unexpected(contentType)
    }

    /// Hands a message to the SDK `Client` (what `send` does with everything it reads).
    public func deliverToClient(_ message: Data) { deliver(message) }

    /// POSTs `data` and passes every message of the answer (JSON or event stream) to `each`.
    private func post(_ data: Data, wholeResponseTimeout: Duration? = nil, each: (Data) async throws -> Void) async throws {
        guard !closed, let headers = postHeaders.withLock({ $0 }) else { throw MCPClientTransportError.closed }

        logger.trace("MCP POST", metadata: ["endpoint": "\(endpoint)", "bytes": "\(data.count)"])
        if let plainTarget, let plainHTTPClient {
            let request = HTTP1Request(target: plainTarget, method: .POST, headers: headers, body: ByteBuffer(bytes: data))
            let response = try await plainHTTPClient.execute(
                request, timeout: .nanoseconds(requestTimeout.nanoseconds), wholeResponseTimeout: wholeResponseTimeout,
                maxResponseBytes: maxResponseBytes)
            try await read(status: Int(response.status.code), headers: response.headers, body: response.body, each: each)
        } else {
            var request = HTTPClientRequest(url: endpoint)
            request.method = .POST
            request.headers = headers
            request.body = .bytes(ByteBuffer(bytes: data))
            let response = try await httpClient.execute(request, timeout: requestTimeout)
            try await read(status: Int(response.status.code), headers: response.headers, body: response.body, each: each)
        }
    }

    /// Reads one POST's answer, whichever client fetched it.
    private func read<Body: AsyncSequence & Sendable>(
        status: Int, headers: HTTPHeaders, body: Body, each: (Data) async throws -> Void
    ) async throws where Body.Element == ByteBuffer {
        logger.trace("MCP response", metadata: ["status": "\(status)", "type": "\(headers.first(name: "Content-Type") ?? "-")"])
        if let newSession = headers.first(name: HTTPHeaderName.sessionID) {
            sessionID = newSession
        }
        if status == 404, sessionID != nil {
            sessionID = nil
            throw MCPClientTransportError.sessionExpired
        }
        guard (200..<300).contains(status) else {
            let text = (try? await Self.collect(body, upTo: 64 << 10)).map { String(buffer: $0) } ?? ""
            throw MCPClientTransportError.http(status: status, message: Self.errorMessage(fromBody: text))
        }
        switch Self.bodyKind(status: status, headers: headers) {
        case .none:
            return
        case .eventStream:
            var parser = SSEParser()
            for try await chunk in body {
                for event in parser.feed(chunk.readableBytesView) where !event.data.isEmpty {
                    try await each(Data(event.data.utf8))
                }
            }
            if let last = parser.finish(), !last.data.isEmpty { try await each(Data(last.data.utf8)) }
        case .json:
            let collected = try await Self.collect(body, upTo: maxResponseBytes)
            if collected.readableBytes > 0 { try await each(Data(collected.readableBytesView)) }
        case .unexpected(let contentType):
            let collected = try await Self.collect(body, upTo: 64 << 10)
            if collected.readableBytes == 0 { return }
            throw MCPClientTransportError.unexpectedContentType(contentType)
        }
    }

    private static func collect<Body: AsyncSequence & Sendable>(_ body: Body, upTo limit: Int) async throws -> ByteBuffer where Body.Element == ByteBuffer {
        var collected = ByteBuffer()
        for try await var chunk in body {
            guard collected.readableBytes + chunk.readableBytes <= limit else { throw MCPClientTransportError.tooLarge(limit: limit) }
            collected.writeBuffer(&chunk)
        }
        return collected
    }

    private func deliver(_ message: Data) {
        logger.trace("MCP message in", metadata: ["bytes": "\(message.count)"])
        if protocolVersion == nil { protocolVersion = Self.negotiatedVersion(in: message) }
        incomingContinuation.yield(message)
    }

    /// Learns the negotiated version from the initialize result, for the header on later requests.
    static func negotiatedVersion(in message: Data) -> String? {
        (try? JSONValue.parse(message))?["result"]?["protocolVersion"]?.stringValue
    }

    /// A JSON-RPC error body's message, or the body itself shortened.
    static func errorMessage(fromBody body: String) -> String {
        if let message = (try? JSONValue.parse(body))?["error"]?["message"]?.stringValue {
            return message
        }
        return String(body.prefix(300))
    }
}

/// A JSON-RPC response read off the wire, parsed once with `JSONValueParser` so a caller can pass
/// its result through without decoding it into the SDK's types (`Value`'s Codable decoding tries
/// every JSON type in turn and runs a regular expression on every string: the biggest cost of a
/// gateway `tools/call` before this). (`JSONDecoder` into only the members read here was tried:
/// faster in a loop, 2.5 times slower per call in the gateway, perf.)
public struct JSONRPCResponse: Sendable {
    public let data: Data
    private let object: [String: JSONValue]

    /// Nil when `message` is not the response (result or error) to request `id`.
    public init?(_ message: Data, to id: String) {
        // `JSONValueParser`, not `JSONSerialization`: Foundation's objects and the casts to read
        // them were most of this (perf: the gateway's lane, at low load and saturated alike).
        guard case .object(let object)? = try? JSONValue.parse(message),
              object["id"] == .string(id), object["result"] != nil || object["error"] != nil else { return nil }
        self.data = message
        self.object = object
    }

    /// The result object's bytes as the server wrote them, and its `isError`; throws the JSON-RPC
    /// error the server sent.
    public func resultJSON() throws -> (json: Data, isError: Bool) {
        if case .object(let result)? = object["result"] {
            let json = RawJSON.member("result", in: data) ?? JSONValue.object(result).encoded()
            return (json, result["isError"] == .bool(true))
        }
        guard case .object(let error)? = object["error"] else { throw MCPError.parseError("the response's result is not an object") }
        throw (try? JSONDecoder().decode(MCPError.self, from: JSONValue.object(error).encoded()))
            ?? MCPError.internalError(error["message"]?.stringValue ?? "the server answered with an error")
    }
}
