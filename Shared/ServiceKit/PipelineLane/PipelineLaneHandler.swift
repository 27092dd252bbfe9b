import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// One connection's part of a `PipelineLane`: collects a request the lane may take, starts its call
/// on the event loop and writes the reply; every other request passes on to Hummingbird's router
/// untouched. Answers leave in the order their requests came (HTTP/1.1 pipelining): a request that
/// arrives while a lane call runs waits for its reply, and none is taken for the lane while
/// Hummingbird still owes an answer.
public final class PipelineLaneHandler<Lane: PipelineLane>: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        /// A request the lane may take, its body coming in.
        case collecting(HTTPRequest, Lane.Target, ByteBuffer)
        /// A request Hummingbird serves: its parts pass through.
        case passing
        /// A lane call in flight; whether the client asked to close the connection after it.
        case calling(InFlight, closeAfter: Bool)
    }

    /// What a lane call waits for, so a client that hangs up can cancel it.
    private enum InFlight {
        case upstream(HTTP1PendingResponse)
        case task(Task<Void, Never>)
        case uncancellable
    }

    private let lane: Lane
    private var state = State.idle
    /// Requests handed to Hummingbird whose response has not ended yet.
    private var unansweredPassed = 0
    /// What arrived while a lane call ran, handled after its reply.
    private var queued: [HTTPRequestPart] = []
    /// A pipelining client may send this much before it has to wait for answers.
    private static var maxQueued: Int { 1024 }
    /// Hummingbird's graceful-shutdown signal, held while a lane call is in flight: Hummingbird
    /// never saw that request and would close the connection under it.
    private var heldQuiesce: Any?

    public init(lane: Lane) {
        self.lane = lane
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .calling = state {
            guard queued.count < Self.maxQueued else { return context.close(promise: nil) }
            queued.append(part)
            return
        }
        handle(part, context: context)
    }

    private func handle(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let head)):
            if unansweredPassed == 0, Self.closesAfterReply(head) != nil, head.headerFields[.expect] == nil,
               (head.headerFields[.contentLength].flatMap(Int.init) ?? 0) <= lane.maxBodyBytes,
               let target = lane.target(for: head) {
                state = .collecting(head, target, ByteBuffer())
            } else {
                // `Expect` needs the server's continue handling; other `Connection` values
                // (upgrades) are Hummingbird's.
                pass(head, context: context)
            }
        case (.collecting(let head, let target, var body), .body(var bytes)):
            if body.readableBytes + bytes.readableBytes > lane.maxBodyBytes {
                // Too large for the lane: Hummingbird answers it (413).
                pass(head, body: body, context: context)
                context.fireChannelRead(wrapInboundOut(.body(bytes)))
            } else {
                state = .idle  // lets the append below write in place
                body.writeBuffer(&bytes)
                state = .collecting(head, target, body)
            }
        case (.collecting(let head, let target, let body), .end(let trailers)):
            if let call = lane.call(head: head, body: body, target: target, remoteAddress: context.channel.remoteAddress) {
                start(call, closeAfter: Self.closesAfterReply(head) == true, context: context)
            } else {
                pass(head, body: body, context: context)
                state = .idle
                context.fireChannelRead(wrapInboundOut(.end(trailers)))
            }
        case (.passing, .end):
            state = .idle
            context.fireChannelRead(wrapInboundOut(part))
        default:
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    /// Whether the connection closes after the reply (`Connection: close`); nil for `Connection`
    /// values the lane leaves to Hummingbird (upgrades and the like).
    static func closesAfterReply(_ head: HTTPRequest) -> Bool? {
        switch head.headerFields[.connection]?.lowercased() {
        case nil, "keep-alive": false
        case "close": true
        default: nil
        }
    }

    /// Hands a request to Hummingbird (with the body collected so far).
    private func pass(_ head: HTTPRequest, body: ByteBuffer? = nil, context: ChannelHandlerContext) {
        state = .passing
        unansweredPassed += 1
        context.fireChannelRead(wrapInboundOut(.head(head)))
        if let body, body.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.body(body))) }
        releaseQuiesce(context: context)
    }

    private func start(_ call: Lane.Call, closeAfter: Bool, context: ChannelHandlerContext) {
        switch call.start(on: context.eventLoop) {
        case .settled(let outcome):
            state = .calling(.uncancellable, closeAfter: closeAfter)
            finish(outcome, context: context)
        case .sent(let pending):
            state = .calling(.upstream(pending), closeAfter: closeAfter)
            pending.response.assumeIsolated().whenComplete { result in
                self.finish(call.outcome(result), context: context)
            }
        }
    }

    private func finish(_ outcome: PipelineOutcome, context: ChannelHandlerContext) {
        switch outcome {
        case .reply(let reply):
            respond(reply, context: context)
        case .later(let cancelOnHangUp, let work):
            let handler = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let task = Task {
                let reply = await work()
                handler.eventLoop.execute {
                    let (handler, context) = handler.value
                    handler.respond(reply, context: context)
                }
            }
            guard case .calling(_, let closeAfter) = state else { return }
            if cancelOnHangUp {
                // A client already gone cancels at once.
                if context.channel.isActive { state = .calling(.task(task), closeAfter: closeAfter) } else { task.cancel() }
            }
        }
    }

    /// Writes the reply (none when the client has gone), then serves whatever waited for it.
    private func respond(_ reply: PipelineReply?, context: ChannelHandlerContext) {
        guard case .calling(_, let closeAfter) = state else { return }
        state = .idle
        if let reply, context.channel.isActive {
            var fields = HTTPFields()
            for (name, value) in reply.headers {
                if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
            }
            fields[.contentLength] = String(reply.body.readableBytes)
            fields[.date] = HTTPDate.now
            context.write(wrapOutboundOut(.head(HTTPResponse(status: .init(code: reply.status), headerFields: fields))), promise: nil)
            if reply.body.readableBytes > 0 { context.write(wrapOutboundOut(.body(reply.body)), promise: nil) }
            guard !closeAfter else {
                // Whatever else the client sent goes unanswered, as Hummingbird would have it.
                queued.removeAll()
                let channel = context.channel
                return context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        releaseQuiesce(context: context)
        guard !queued.isEmpty else { return }
        while !queued.isEmpty {
            if case .calling = state { break }
            handle(queued.removeFirst(), context: context)
        }
        context.fireChannelReadComplete()
    }

    private func releaseQuiesce(context: ChannelHandlerContext) {
        guard let event = heldQuiesce else { return }
        heldQuiesce = nil
        context.fireUserInboundEventTriggered(event)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), unansweredPassed > 0 { unansweredPassed -= 1 }
        context.write(data, promise: promise)
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch (state, event) {
        case (.calling, is ChannelShouldQuiesceEvent), (.collecting, is ChannelShouldQuiesceEvent):
            heldQuiesce = event
            return
        case (.calling(let inFlight, _), let channelEvent as ChannelEvent) where channelEvent == .inputClosed:
            // MCP 2026-07-28: closing the request is how a client cancels it.
            Self.cancel(inFlight)
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        if case .calling(let inFlight, _) = state { Self.cancel(inFlight) }
        context.fireChannelInactive()
    }

    private static func cancel(_ inFlight: InFlight) {
        switch inFlight {
        case .upstream(let pending): pending.cancel()
        case .task(let task): task.cancel()
        case .uncancellable: break
        }
    }
}
