import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Closes a connection that sends nothing for `timeout` while none of its requests is being
/// answered: a request head or body that stalls half-way (slowloris), or a keep-alive connection
/// left idle. A request that has arrived whole is never cut off, however long its answer takes
/// (a slow tool, a chat stream, an SSE GET stream).
///
/// Why not Hummingbird's own `idleTimeout`: its handler sits behind the pipeline lanes
/// (`PipelineLaneHandler`), so it never sees the requests they answer and would close a
/// connection in the middle of a long fast-lane call. This handler goes first among the
/// additional handlers and sees every request and every response end, lane or not.
public final class RequestReadTimeout: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    /// Long enough for any client's keep-alive (Python's httpx and aiohttp drop idle connections
    /// after 5 and 15 s, so they never race this close), short enough to bound stalled requests.
    public static let defaultTimeout = TimeAmount.seconds(60)

    private let timeout: TimeAmount
    private var lastActivity = NIODeadline.now()
    /// Heads read minus responses ended.
    private var unanswered = 0
    private var readingRequest = false
    private var timer: Scheduled<Void>?

    public init(timeout: TimeAmount = RequestReadTimeout.defaultTimeout) {
        self.timeout = timeout
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context: context, at: .now() + timeout) }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    public func channelActive(context: ChannelHandlerContext) {
        lastActivity = .now()
        if timer == nil { arm(context: context, at: lastActivity + timeout) }
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        switch unwrapInboundIn(data) {
        case .head:
            unanswered += 1
            readingRequest = true
        case .body:
            break
        case .end:
            readingRequest = false
        }
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            unanswered = max(0, unanswered - 1)
            lastActivity = .now()
        }
        context.write(data, promise: promise)
    }

    private func arm(context: ChannelHandlerContext, at deadline: NIODeadline) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.expired(context: context)
        }
    }

    private func expired(context: ChannelHandlerContext) {
        timer = nil
        guard context.channel.isActive else { return }
        let waitingForTheClient = readingRequest || unanswered == 0
        let quietUntil = lastActivity + timeout
        if waitingForTheClient, NIODeadline.now() >= quietUntil {
            context.close(promise: nil)
        } else {
            // Answering, or the client spoke since: look again a whole timeout after its last word.
            arm(context: context, at: max(quietUntil, .now() + .nanoseconds(timeout.nanoseconds / 4)))
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 as every service of the suite serves it: `RequestReadTimeout` first, then
    /// `handlers` (all built anew for each connection).
    public static func suiteHTTP1(
        _ handlers: @autoclosure @escaping @Sendable () -> [any RemovableChannelHandler] = []
    ) -> HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [RequestReadTimeout()] + handlers()))
    }
}
