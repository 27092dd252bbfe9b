import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ServiceKit

/// Why a call to a provider failed, in the terms the fallback logic needs.
public enum UpstreamError: Error, Sendable, CustomStringConvertible {
    /// A non-2xx answer (message is the provider's, never including our key).
    case status(Int, retryAfter: Double?, message: String)
    case timeout(String)
    case connection(String)
    /// The provider said something the router cannot read, or reported an error in-band.
    case protocolError(String)
    case notConfigured(String)

    /// 429, 5xx (529 included), timeouts and connection errors: try again or elsewhere.
    public var isRetryable: Bool {
        switch self {
        case .status(let code, _, _): code == 408 || code == 429 || code >= 500
        case .timeout, .connection, .protocolError, .notConfigured: true
        }
    }

    public var retryAfter: Double? { if case .status(_, let r, _) = self { r } else { nil } }

    public var description: String {
        switch self {
        case .status(let code, _, let message): "upstream answered \(code): \(message)"
        case .timeout(let what): "upstream timed out (\(what))"
        case .connection(let what): "cannot reach upstream: \(what)"
        case .protocolError(let what): "upstream error: \(what)"
        case .notConfigured(let what): what
        }
    }

    /// Short label for metrics and usage records.
    public var outcome: String {
        switch self {
        case .status(let code, _, _): "http_\(code)"
        case .timeout: "timeout"
        case .connection: "connection_error"
        case .protocolError: "upstream_error"
        case .notConfigured: "not_configured"
        }
    }
}

/// Sends one JSON request to a provider and hands back the response once its status is 2xx.
/// Plain `http://` providers (Ollama, a local proxy, on the Compose network) go through
/// `HTTP1Client`, the cheaper keep-alive client (see its comment); `https://` ones (the cloud
/// APIs) through AsyncHTTPClient.
struct UpstreamHTTP {
    let client: HTTPClient
    var plainClient: HTTP1Client? = .shared

    func post(url: String, headers: [(String, String)], body: JSONValue, timeout: Double) async throws -> UpstreamResponse {
        try await send(url: url, method: .POST, headers: [("content-type", "application/json")] + headers, body: ByteBuffer(bytes: body.encoded()), timeout: timeout)
    }

    func get(url: String, headers: [(String, String)] = [], timeout: Double) async throws -> UpstreamResponse {
        try await send(url: url, method: .GET, headers: headers, body: nil, timeout: timeout)
    }

    private func send(url: String, method: HTTPMethod, headers: [(String, String)], body: ByteBuffer?, timeout: Double) async throws -> UpstreamResponse {
        let response: UpstreamResponse
        do {
            if let plainClient, let target = HTTP1Target(url: url) {
                let answer = try await plainClient.execute(
                    HTTP1Request(target: target, method: method, headers: HTTPHeaders(headers), body: body),
                    timeout: .milliseconds(Int64(timeout * 1000)), maxResponseBytes: 64 << 20)
                response = UpstreamResponse(status: Int(answer.status.code), headers: answer.headers, body: .http1(answer.body))
            } else {
                var request = HTTPClientRequest(url: url)
                request.method = method
                request.headers = HTTPHeaders(headers)
                if let body { request.body = .bytes(body) }
                let answer = try await client.execute(request, deadline: .now() + .milliseconds(Int64(timeout * 1000)))
                response = UpstreamResponse(status: Int(answer.status.code), headers: answer.headers, body: .asyncHTTPClient(answer.body))
            }
        } catch {
            throw Self.failure(error, timeout: timeout)
        }
        guard (200..<300).contains(response.status) else {
            let body = (try? await response.body.collect(upTo: 64 << 10)) ?? ByteBuffer()
            throw Self.failure(status: response.status, headers: response.headers, body: body)
        }
        return response
    }

    /// How a failed exchange reads to the fallback logic (a cancelled one stays a cancellation).
    static func failure(_ error: any Error, timeout: Double) -> any Error {
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout:
            UpstreamError.timeout("no answer within \(timeout) s")
        case HTTP1ClientError.timeout: UpstreamError.timeout("no answer within \(timeout) s")
        case is CancellationError: CancellationError()
        case let error as UpstreamError: error
        default: UpstreamError.connection("\(error)")
        }
    }

    /// A non-2xx answer as the fallback logic reads it: status, `Retry-After`, the provider's message.
    static func failure(status: Int, headers: HTTPHeaders, body: ByteBuffer) -> UpstreamError {
        let retryAfter = UpstreamDelay.retryAfter(headers.first(name: "retry-after"))
        return .status(status, retryAfter: retryAfter, message: errorMessage(String(buffer: body.getSlice(at: body.readerIndex, length: min(body.readableBytes, 64 << 10)) ?? body)))
    }

    /// The provider's own message from any of the usual error shapes, shortened.
    static func errorMessage(_ body: String) -> String {
        if let json = try? JSONValue.parse(body) {
            if let m = json["error"]?["message"]?.stringValue { return String(m.prefix(300)) }
            if let m = json["error"]?.stringValue { return String(m.prefix(300)) }
            if let m = json["message"]?.stringValue { return String(m.prefix(300)) }
        }
        return String(body.prefix(300))
    }

    /// The largest non-streamed answer read.
    static let maxResponseBytes = 32 << 20

    static func readBody(_ response: UpstreamResponse, limit: Int = maxResponseBytes) async throws -> JSONValue {
        let buffer: ByteBuffer
        do { buffer = try await response.body.collect(upTo: limit) } catch {
            throw UpstreamError.connection("response body broke off: \(error)")
        }
        return try json(buffer)
    }

    /// A collected answer's JSON.
    static func json(_ buffer: ByteBuffer) throws(UpstreamError) -> JSONValue {
        do { return try JSONValue.parse(buffer.readableBytesView) } catch {
            throw UpstreamError.protocolError("response is not JSON")
        }
    }
}

/// Splits a streamed body into lines (SSE and NDJSON are both line-based), kept as bytes: the
/// decoders parse JSON and SSE fields from bytes, so a `String` per line would only be turned back.
struct LineSplitter {
    private var pending: [UInt8] = []

    mutating func feed(_ buffer: ByteBuffer) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for byte in buffer.readableBytesView {
            if byte == UInt8(ascii: "\n") {
                if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
                lines.append(pending)
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
            }
        }
        return lines
    }

    mutating func finish() -> [[UInt8]] {
        defer { pending.removeAll() }
        return pending.isEmpty ? [] : [pending]
    }
}

/// What each provider adapter writes: turns its stream's lines into OpenAI-shaped events.
protocol StreamDecoder: Sendable {
    mutating func decode(line: [UInt8]) throws -> [ChatEvent]
    /// The body ended: flush, or throw when the provider's end marker never came.
    mutating func finish() throws -> [ChatEvent]
}

/// A provider's streamed answer as OpenAI-shaped events, read one at a time with a deadline.
///
/// One consumer only (the request handler), which is why the unchecked Sendable is sound: the
/// deadline race hands the reader to a child task while the parent waits.
final class ChatEventStream: @unchecked Sendable {
    private var body: UpstreamBody.AsyncIterator?
    private var decoder: any StreamDecoder
    private var splitter = LineSplitter()
    private var queue: [ChatEvent] = []
    private var finished = false

    init(response: UpstreamResponse, decoder: some StreamDecoder) {
        self.body = response.body.makeAsyncIterator()
        self.decoder = decoder
    }

    /// A stream of ready events (tests, cache replays).
    init(events: [ChatEvent]) {
        self.body = nil
        self.decoder = NoDecoder()
        self.queue = events
        self.finished = true
    }

    /// The next event, `nil` at the end; throws ``UpstreamError/timeout`` when `timeout` passes first.
    func next(timeout: Double?) async throws -> ChatEvent? {
        if !queue.isEmpty { return queue.removeFirst() }
        guard let timeout, !finished else { return try await next() }
        // Once per streamed chunk: one task and an event-loop timer (`withDeadline`), where a task
        // group with a sleeping second task cost twice the tasks.
        return try await withDeadline(timeout, "no data") { try await self.next() }
    }

    private func next() async throws -> ChatEvent? {
        while queue.isEmpty {
            if finished { return nil }
            let chunk: ByteBuffer?
            do { chunk = try await body?.next() } catch is CancellationError { throw CancellationError() } catch {
                throw UpstreamError.connection("stream broke off: \(error)")
            }
            if let chunk {
                for line in splitter.feed(chunk) { queue += try decoder.decode(line: line) }
            } else {
                finished = true
                for line in splitter.finish() { queue += try decoder.decode(line: line) }
                queue += try decoder.finish()
            }
        }
        return queue.removeFirst()
    }
}

private struct NoDecoder: StreamDecoder {
    mutating func decode(line: [UInt8]) throws -> [ChatEvent] { [] }
    mutating func finish() throws -> [ChatEvent] { [] }
}
