import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A keep-alive HTTP/1.1 client for plain-`http` upstreams on the Compose network or loopback: the
/// gateway's calls to its shards and the router's calls to local providers (Ollama, a proxy).
///
/// Written on SwiftNIO's HTTP codec because AsyncHTTPClient, which every other outbound call here
/// uses, costs about 0.4 ms of CPU per request on these machines (measured in
/// docs/BENCHMARKS.md: a Hummingbird + AsyncHTTPClient forwarder that does nothing spends 0.65 ms per
/// call, a bare NIO one 0.19), which alone is most of the 0.5 ms a gateway hop may add. It does only
/// what those hot paths need: pooled keep-alive connections, one request at a time per connection,
/// a timeout until the response head, a response size cap, cancellation, and a streamed body (MCP
/// answers may be event streams), at most `maxConnectionsPerHost` connections to one host (more
/// requests wait their turn, within their timeout). No TLS, proxies, redirects or HTTP/2:
/// `http://` URLs only, every other URL is for AsyncHTTPClient.
///
/// ```swift
/// let client = HTTP1Client.shared
/// let response = try await client.execute(HTTP1Request(url: "http://127.0.0.1:9110/mcp", method: .POST, body: bytes)!)
/// let body = try await response.body.collect(upTo: 1 << 20)
/// ```
public final class HTTP1Client: Sendable {
    public struct Configuration: Sendable {
        public var connectTimeout: Duration = .seconds(5)
        /// Idle connections close after this; shorter than uvicorn's 5 s keep-alive (Python MCP
        /// servers) so the client, not the server, ends an idle connection.
        public var idleTimeout: Duration = .seconds(4)
        /// Idle connections kept per host and port; more are closed when released.
        public var maxIdlePerHost = 256
        /// Open connections per host and port, idle or busy: a burst of calls beyond it waits for
        /// a connection instead of opening more sockets than a small server (a Python shard,
        /// Ollama) should have to accept. Above the benchmarks' 128 concurrent calls.
        public var maxConnectionsPerHost = 256
        public init() {}
    }

    /// One client per process, on NIO's shared event loops (as Hummingbird and AsyncHTTPClient's
    /// `.singleton` run).
    public static let shared = HTTP1Client()

    private let group: any EventLoopGroup
    private let configuration: Configuration
    let pool: HTTP1ConnectionPool
    private let requestCounter = Atomic<Int>(0)

    public init(eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, configuration: Configuration = .init()) {
        self.group = eventLoopGroup
        self.configuration = configuration
        self.pool = HTTP1ConnectionPool(
            maxIdlePerHost: configuration.maxIdlePerHost, maxPerHost: configuration.maxConnectionsPerHost,
            idleTimeout: TimeAmount(configuration.idleTimeout))
    }

    /// Sends `request` and returns once the response head has arrived, within `timeout` (a wait
    /// for a free connection included). Read or drop the body: a body dropped unread closes its
    /// connection instead of reusing it.
    /// Cancelling the calling task closes the connection and throws `CancellationError`.
    ///
    /// With `wholeResponseTimeout` the request fails with `.timeout` unless its body has ended by
    /// then too (a call's deadline, enforced by one event-loop timer instead of a task racing it).
    public func execute(
        _ request: HTTP1Request, timeout: Duration = .seconds(60), wholeResponseTimeout: Duration? = nil, maxResponseBytes: Int = 16 << 20
    ) async throws -> HTTP1Response {
        let started = ContinuousClock.now
        // A pooled connection can close between checkout and use (its idle timer, the server):
        // then nothing was sent and one fresh connection is safe to try.
        for attempt in 0..<2 {
            try Task.checkCancellation()
            let limit = min(timeout, wholeResponseTimeout ?? timeout)
            let (connection, didWait) = try await checkout(request.target, fresh: attempt > 0, deadline: started + limit, timeout: limit)
            // A wait for a free connection counts against the timeouts.
            let waited = didWait ? ContinuousClock.now - started : .zero
            let id = requestCounter.add(1, ordering: .relaxed).newValue
            do {
                return try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { continuation in
                        connection.channel.eventLoop.execute {
                            connection.handler.value.start(
                                request, id: id, timeout: max(.zero, timeout - waited), wholeResponseTimeout: wholeResponseTimeout.map { max(.zero, $0 - waited) },
                                maxResponseBytes: maxResponseBytes, waiter: .streaming(continuation))
                        }
                    }
                } onCancel: {
                    // Closes the connection only while it still serves this request: the head may
                    // have come and the connection gone back to the pool already.
                    connection.channel.eventLoop.execute { connection.handler.value.abandon(id) }
                }
            } catch HTTP1ClientError.staleConnection {
                continue
            } catch {
                if Task.isCancelled { throw CancellationError() }
                throw error
            }
        }
        throw HTTP1ClientError.connectionClosed
    }

    /// Sends `request` from code running on `eventLoop` (a channel handler) and collects the whole
    /// answer, with no Swift task in between: the response future completes on `eventLoop`, and
    /// the request goes on a connection of that loop (a pooled one, or a new one), so the call
    /// never leaves its thread. `timeout` covers the whole answer.
    public func send(
        _ request: HTTP1Request, on eventLoop: any EventLoop, timeout: Duration = .seconds(60), maxResponseBytes: Int = 16 << 20
    ) -> HTTP1PendingResponse {
        let id = requestCounter.add(1, ordering: .relaxed).newValue
        let promise = eventLoop.makePromise(of: HTTP1CollectedResponse.self)
        let state = SendState()
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let pool = self.pool
        let key = request.target.hostKey
        @Sendable func attempt(fresh: Bool) {
            guard !state.isCancelled else { return promise.fail(CancellationError()) }
            checkout(request.target, on: eventLoop, fresh: fresh, deadline: deadline, timeout: timeout, state: state).whenComplete { result in
                switch result {
                case .failure(let error): promise.fail(error)
                case .success(let connection):
                    // A cancel that came before the connection was recorded has not reached it.
                    if state.use(connection) {
                        connection.channel.eventLoop.execute { connection.handler.value.abandon(id) }
                    }
                    let answer = connection.channel.eventLoop.makePromise(of: HTTP1CollectedResponse.self)
                    answer.futureResult.hop(to: eventLoop).whenComplete { result in
                        switch result {
                        case .success(let response): promise.succeed(response)
                        case .failure(HTTP1ClientError.staleConnection) where !fresh: attempt(fresh: true)
                        case .failure(let error): promise.fail(error)
                        }
                    }
                    // A wait for a free connection counts against the timeout.
                    let remaining = state.waited ? Duration.nanoseconds(max(0, (deadline - .now()).nanoseconds)) : timeout
                    connection.channel.eventLoop.execute {
                        connection.handler.value.start(
                            request, id: id, timeout: remaining, wholeResponseTimeout: remaining, maxResponseBytes: maxResponseBytes,
                            waiter: .collecting(answer))
                    }
                }
            }
        }
        attempt(fresh: false)
        return HTTP1PendingResponse(response: promise.futureResult) {
            let (waiter, connection) = state.cancel()
            if let waiter { pool.stopWaiting(key, waiter, with: CancellationError()) }
            guard let connection else { return }
            connection.channel.eventLoop.execute { connection.handler.value.abandon(id) }
        }
    }

    /// Open connections waiting in the pool for the next request.
    public var idleConnectionCount: Int { pool.idleCount }

    /// Closes every idle connection (in-flight requests finish on theirs).
    public func closeIdleConnections() {
        pool.closeAll()
    }

    /// `checkout` for event-loop callers: an idle connection on `eventLoop`, or a new one there
    /// (one more connection per event loop, instead of two thread hops on every call); at the
    /// limit, any idle one, or the next one released (`place` tells the request's place in the
    /// queue while it waits).
    private func checkout(
        _ target: HTTP1Target, on eventLoop: any EventLoop, fresh: Bool, deadline: NIODeadline, timeout: Duration,
        state: SendState
    ) -> EventLoopFuture<HTTP1PooledConnection> {
        let key = target.hostKey
        switch pool.checkout(key, on: eventLoop, preferringLoop: true, fresh: fresh) {
        case .idle(let connection): return eventLoop.makeSucceededFuture(connection)
        case .connect: return connect(target, on: eventLoop)
        case .wait(let released, let id):
            state.waiting(id)
            let pool = self.pool
            let timer = eventLoop.scheduleTask(deadline: deadline) {
                pool.stopWaiting(key, id, with: HTTP1ClientError.timeout(timeout))
            }
            return released.flatMap { connection in
                timer.cancel()
                state.waiting(nil)
                return connection.map { eventLoop.makeSucceededFuture($0) } ?? self.connect(target, on: eventLoop)
            }.flatMapErrorThrowing { error in
                timer.cancel()
                state.waiting(nil)
                throw error
            }
        }
    }

    /// `checkout` for async callers: any idle connection, else a new one, else the next one
    /// released. `waited`: it had to wait.
    private func checkout(
        _ target: HTTP1Target, fresh: Bool, deadline: ContinuousClock.Instant, timeout: Duration
    ) async throws -> (connection: HTTP1PooledConnection, waited: Bool) {
        let key = target.hostKey
        let eventLoop = group.next()
        switch pool.checkout(key, on: eventLoop, preferringLoop: false, fresh: fresh) {
        case .idle(let connection): return (connection, false)
        case .connect: return (try await connect(target, on: eventLoop).get(), false)
        case .wait(let released, let id):
            let pool = self.pool
            let timer = eventLoop.scheduleTask(in: TimeAmount(max(.zero, deadline - .now))) {
                pool.stopWaiting(key, id, with: HTTP1ClientError.timeout(timeout))
            }
            defer { timer.cancel() }
            let connection = try await withTaskCancellationHandler {
                try await released.get()
            } onCancel: {
                pool.stopWaiting(key, id, with: CancellationError())
            }
            if let connection { return (connection, true) }
            return (try await connect(target, on: eventLoop).get(), true)
        }
    }

    /// Opens a connection counted by the pool's `checkout` (which `connectFailed` uncounts).
    private func connect(_ target: HTTP1Target, on eventLoop: any EventLoop) -> EventLoopFuture<HTTP1PooledConnection> {
        let pool = self.pool
        let key = target.hostKey
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HTTP1ClientHandler(key: key, pool: pool))
                }
            }
            .connect(host: target.host, port: target.port)
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: HTTP1ClientHandler.self)
                return HTTP1PooledConnection(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
            }
            .flatMapErrorThrowing { error in
                pool.connectFailed(key)
                throw HTTP1ClientError.connect("\(target.host):\(target.port)", reason: "\(error)")
            }
    }
}

/// What a cancel of an event-loop request (`send(_:on:)`) must reach: its place in the queue for
/// a connection, or the connection serving it. One object per request, on the gateway's and the
/// router's hottest path.
private final class SendState: Sendable {
    private struct State {
        var cancelled = false
        /// Its place in the queue while it waits for a connection.
        var waiterID: Int?
        /// It waited: the time counts against its timeout.
        var waited = false
        var connection: HTTP1PooledConnection?
    }

    private let state = Mutex(State())

    var isCancelled: Bool { state.withLock { $0.cancelled } }
    var waited: Bool { state.withLock { $0.waited } }

    func waiting(_ id: Int?) {
        state.withLock { state in
            state.waiterID = id
            if id != nil { state.waited = true }
        }
    }

    /// Records the connection serving the request; true when it was cancelled already.
    func use(_ connection: HTTP1PooledConnection) -> Bool {
        state.withLock { state in
            state.connection = connection
            return state.cancelled
        }
    }

    /// Marks it cancelled: the queue place and the connection to cancel, if any.
    func cancel() -> (waiterID: Int?, connection: HTTP1PooledConnection?) {
        state.withLock { state in
            state.cancelled = true
            return (state.waiterID, state.connection)
        }
    }
}

/// Why an `HTTP1Client` request failed.
public enum HTTP1ClientError: Error, CustomStringConvertible, Sendable, Equatable {
    case connect(String, reason: String)
    /// No response head within the request's timeout.
    case timeout(Duration)
    /// The connection closed before the response was complete.
    case connectionClosed
    case responseTooLarge(limit: Int)
    /// The server's bytes are not an HTTP/1.1 response.
    case invalidResponse(String)
    /// A pooled connection was already closed when the request reached it (nothing was sent).
    case staleConnection

    public var description: String {
        switch self {
        case .connect(let address, let reason): "cannot connect to \(address): \(reason)"
        case .timeout(let after): "no response within \(after.seconds) seconds"
        case .connectionClosed: "the connection closed before the response was complete"
        case .responseTooLarge(let limit): "the response is larger than \(limit) bytes"
        case .invalidResponse(let what): "invalid HTTP response: \(what)"
        case .staleConnection: "the pooled connection had closed"
        }
    }
}
