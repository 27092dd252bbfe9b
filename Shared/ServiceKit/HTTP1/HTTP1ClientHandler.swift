import NIOCore
import NIOHTTP1

/// Runs one request at a time on its connection: writes it, hands the response head to the waiting
/// caller, streams the body, then puts the connection back in the pool (keep-alive) or closes it.
/// Lives on its channel's event loop; every method runs there.
final class HTTP1ClientHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// Who waits for the response: an async caller (head first, then a streamed body) or an
    /// event-loop caller that wants the whole answer in one piece.
    enum Waiter {
        case streaming(CheckedContinuation<HTTP1Response, any Error>)
        case collecting(EventLoopPromise<HTTP1CollectedResponse>)

        func fail(_ error: any Error) {
            switch self {
            case .streaming(let continuation): continuation.resume(throwing: error)
            case .collecting(let promise): promise.fail(error)
            }
        }
    }

    private enum State {
        case idle
        case awaitingHead(Waiter)
        case streaming(AsyncThrowingStream<ByteBuffer, any Error>.Continuation)
        case collecting(HTTPResponseHead, ByteBuffer, EventLoopPromise<HTTP1CollectedResponse>)
        case closed
    }

    private var state = State.idle
    /// The request this connection serves now: a late cancellation of an earlier one must not
    /// close the connection under the next.
    private var currentRequest = 0
    /// A request cancelled before it reached this connection (its `start` is still on the way).
    private var cancelledBeforeStart: Int?
    private var context: ChannelHandlerContext?
    /// The request's timeout while one runs, the idle timeout while pooled.
    private var timer: Scheduled<Void>?
    /// Whether the request's timer runs until the end of the body, not just the head.
    private var timesWholeResponse = false
    private var keepAlive = true
    private var remainingBytes = 0
    private var maxResponseBytes = 0
    private let key: String
    private let pool: HTTP1ConnectionPool

    init(key: String, pool: HTTP1ConnectionPool) {
        self.key = key
        self.pool = pool
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// `timeout` runs until the response head, `wholeResponseTimeout` (when set) instead until
    /// the end of its body.
    func start(
        _ request: HTTP1Request, id: Int, timeout: Duration, wholeResponseTimeout: Duration?, maxResponseBytes: Int,
        waiter: Waiter
    ) {
        guard case .idle = state, let context, context.channel.isActive else {
            waiter.fail(HTTP1ClientError.staleConnection)
            return
        }
        if cancelledBeforeStart == id {
            waiter.fail(CancellationError())
            state = .closed
            context.close(promise: nil)
            return
        }
        timer?.cancel()
        currentRequest = id
        state = .awaitingHead(waiter)
        keepAlive = true
        self.maxResponseBytes = maxResponseBytes
        remainingBytes = maxResponseBytes
        let limit = wholeResponseTimeout ?? timeout
        timesWholeResponse = wholeResponseTimeout != nil
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limit)) {
            self.fail(HTTP1ClientError.timeout(limit))
        }
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        if let body = request.body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        // A failed write closes the connection, and closing fails the request (channelInactive).
        let written = context.eventLoop.makePromise(of: Void.self)
        let channel = context.channel
        written.futureResult.whenFailure { _ in channel.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard case .awaitingHead(let waiter) = state else {
                return fail(HTTP1ClientError.invalidResponse("a response nobody asked for"))
            }
            if !timesWholeResponse {
                timer?.cancel()
                timer = nil
            }
            keepAlive = head.isKeepAlive
            guard case .streaming(let continuation) = waiter else {
                if case .collecting(let promise) = waiter { state = .collecting(head, ByteBuffer(), promise) }
                return
            }
            let (stream, body) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
            // A body dropped or abandoned before its end: the rest of it would poison the next
            // request on this connection, so the connection goes.
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            let request = currentRequest
            body.onTermination = { reason in
                if case .cancelled = reason { handler.eventLoop.execute { handler.value.abandon(request) } }
            }
            state = .streaming(body)
            continuation.resume(returning: HTTP1Response(status: head.status, headers: head.headers, body: .init(stream: stream)))
        case .body(var bytes):
            remainingBytes -= bytes.readableBytes
            switch state {
            case .streaming(let body):
                guard remainingBytes >= 0 else { return fail(HTTP1ClientError.responseTooLarge(limit: maxResponseBytes)) }
                body.yield(bytes)
            case .collecting(let head, var collected, let promise):
                guard remainingBytes >= 0 else { return fail(HTTP1ClientError.responseTooLarge(limit: maxResponseBytes)) }
                state = .idle  // drops the state's reference, so the append does not copy
                if collected.readableBytes == 0 { collected = bytes } else { collected.writeBuffer(&bytes) }
                state = .collecting(head, collected, promise)
            default:
                return
            }
        case .end:
            let finished: () -> Void
            switch state {
            case .streaming(let body): finished = { body.finish() }
            case .collecting(let head, let collected, let promise):
                finished = { promise.succeed(HTTP1CollectedResponse(status: head.status, headers: head.headers, body: collected)) }
            default: return
            }
            state = .idle
            timer?.cancel()
            timer = nil
            // Back in the pool before the caller sees the end, so its next request finds it.
            let connection = HTTP1PooledConnection(channel: context.channel, handler: NIOLoopBound(self, eventLoop: context.eventLoop))
            if keepAlive, pool.release(key, connection) {
                timer = context.eventLoop.assumeIsolated().scheduleTask(in: pool.idleTimeout) {
                    guard case .idle = self.state else { return }
                    self.pool.dropIdle(self.key, context.channel)
                    self.state = .closed
                    context.close(promise: nil)
                }
            } else {
                state = .closed
                context.close(promise: nil)
            }
            finished()
        }
    }

    /// Request `id`'s caller went away (cancelled, or dropped the body): closes the connection if
    /// that request still has it.
    func abandon(_ id: Int) {
        // Request ids only grow, so a later one has not started here yet.
        if id > currentRequest { cancelledBeforeStart = id }
        guard id == currentRequest else { return }
        switch state {
        case .awaitingHead, .streaming, .collecting: fail(CancellationError())
        case .idle, .closed: break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(HTTP1ClientError.connectionClosed)
        state = .closed
        pool.closed(key, context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case let error as HTTP1ClientError: fail(error)
        // The decoder's word for a connection that closed inside a response.
        case HTTPParserError.invalidEOFState: fail(HTTP1ClientError.connectionClosed)
        case is HTTPParserError: fail(HTTP1ClientError.invalidResponse("\(error)"))
        default: fail(HTTP1ClientError.connectionClosed)  // connection reset and the like
        }
    }

    /// Fails the request in flight, if any, and closes the connection.
    private func fail(_ error: any Error) {
        timer?.cancel()
        timer = nil
        let previous = state
        state = .closed
        switch previous {
        case .awaitingHead(let waiter): waiter.fail(error)
        case .streaming(let body): body.finish(throwing: error)
        case .collecting(_, _, let promise): promise.fail(error)
        case .idle, .closed: break
        }
        context?.close(promise: nil)
    }
}
