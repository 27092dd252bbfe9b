import NIOCore
import NIOHTTP1

/// Where an `HTTP1Client` request goes: host, port and the request target (path and query).
public struct HTTP1Target: Sendable, Hashable {
    public let host: String
    public let port: Int
    public let path: String

    /// Nil unless `url` is an `http://` URL with a host (TLS is AsyncHTTPClient's job). Read by
    /// its UTF-8 bytes: it runs for every proxied request, and by characters it was a measurable
    /// share of one (grapheme breaking).
    public init?(url: String) {
        let bytes = url.utf8
        var cursor = bytes.startIndex
        for expected in "http://".utf8 {
            guard cursor != bytes.endIndex, Self.lowercased(bytes[cursor]) == expected else { return nil }
            cursor = bytes.index(after: cursor)
        }
        let authorityEnd = bytes[cursor...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? bytes.endIndex
        let authority = url[cursor..<authorityEnd]
        guard !authority.isEmpty, !authority.utf8.contains(UInt8(ascii: "@")) else { return nil }
        var host = authority
        var port = 80
        if authority.utf8.first == UInt8(ascii: "[") {  // [IPv6]:port
            guard let close = authority.utf8.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            host = authority[authority.utf8.index(after: authority.startIndex)..<close]
            let after = authority[authority.utf8.index(after: close)...]
            if after.utf8.first == UInt8(ascii: ":") {
                guard let number = Int(after.dropFirst()) else { return nil }
                port = number
            } else if !after.isEmpty {
                return nil
            }
        } else if let colon = authority.utf8.lastIndex(of: UInt8(ascii: ":")) {
            guard let number = Int(authority[authority.utf8.index(after: colon)...]) else { return nil }
            host = authority[..<colon]
            port = number
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        var path = url[authorityEnd...]
        if let fragment = path.utf8.firstIndex(of: UInt8(ascii: "#")) { path = path[..<fragment] }
        self.host = String(host)
        self.port = port
        self.path = path.isEmpty || path.utf8.first == UInt8(ascii: "?") ? "/" + path : String(path)
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    /// The `Host` header's value.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }

    /// Idle connections are shared by every request to the same host and port.
    var hostKey: String { "\(host):\(port)" }
}

/// One request for `HTTP1Client`. `Host`, `Content-Length` and keep-alive are written by the client.
public struct HTTP1Request: Sendable {
    public var target: HTTP1Target
    public var method: HTTPMethod
    public var headers: HTTPHeaders
    public var body: ByteBuffer?

    public init(target: HTTP1Target, method: HTTPMethod = .GET, headers: HTTPHeaders = [:], body: ByteBuffer? = nil) {
        self.target = target
        self.method = method
        self.headers = headers
        self.body = body
    }

    /// Nil unless `url` is a plain `http://` URL.
    public init?(url: String, method: HTTPMethod = .GET, headers: HTTPHeaders = [:], body: ByteBuffer? = nil) {
        guard let target = HTTP1Target(url: url) else { return nil }
        self.init(target: target, method: method, headers: headers, body: body)
    }

    private static let clientOwnedHeaders = ["host", "content-length", "connection", "transfer-encoding", "keep-alive"]

    /// The head as written: the caller's headers minus the hop-by-hop ones the client owns.
    var head: HTTPRequestHead {
        var fields = headers
        // Case-insensitive and without a lowercased copy of every name (this runs on every call).
        for name in Self.clientOwnedHeaders { fields.remove(name: name) }
        fields.replaceOrAdd(name: "Host", value: target.hostHeader)
        if let body {
            fields.add(name: "Content-Length", value: String(body.readableBytes))
        } else if method == .POST || method == .PUT || method == .PATCH {
            fields.add(name: "Content-Length", value: "0")
        }
        return HTTPRequestHead(version: .http1_1, method: method, uri: target.path, headers: fields)
    }
}

/// A response whose head has arrived; its body streams in (or is already buffered).
public struct HTTP1Response: Sendable {
    public let status: HTTPResponseStatus
    public let headers: HTTPHeaders
    public let body: Body

    /// The body as it arrives, in chunks.
    public struct Body: AsyncSequence, Sendable {
        public typealias Element = ByteBuffer
        let stream: AsyncThrowingStream<ByteBuffer, any Error>

        public func makeAsyncIterator() -> Iterator { Iterator(base: stream.makeAsyncIterator()) }

        /// Throws `CancellationError` when the reading task is cancelled: a bare stream would just
        /// end (a cut-off body would look complete), or fail with the connection that its
        /// cancellation closed.
        public struct Iterator: AsyncIteratorProtocol {
            var base: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator

            public mutating func next() async throws -> ByteBuffer? {
                let chunk: ByteBuffer?
                do { chunk = try await base.next() } catch {
                    if Task.isCancelled { throw CancellationError() }
                    throw error
                }
                if chunk == nil { try Task.checkCancellation() }
                return chunk
            }
        }

        /// The whole body; throws `HTTP1ClientError.responseTooLarge` past `limit` bytes.
        public func collect(upTo limit: Int) async throws -> ByteBuffer {
            var collected = ByteBuffer()
            for try await var chunk in self {
                guard collected.readableBytes + chunk.readableBytes <= limit else { throw HTTP1ClientError.responseTooLarge(limit: limit) }
                if collected.readableBytes == 0 { collected = chunk } else { collected.writeBuffer(&chunk) }
            }
            return collected
        }
    }
}

/// A whole response, for callers on an event loop (`HTTP1Client.send(_:on:…)`).
public struct HTTP1CollectedResponse: Sendable {
    public let status: HTTPResponseStatus
    public let headers: HTTPHeaders
    public let body: ByteBuffer
}

/// A request sent from an event loop: its answer, and a way to give up on it.
public struct HTTP1PendingResponse: Sendable {
    public let response: EventLoopFuture<HTTP1CollectedResponse>
    let abandon: @Sendable () -> Void

    /// Fails the request with `CancellationError` and closes its connection, unless it has ended.
    public func cancel() { abandon() }
}
