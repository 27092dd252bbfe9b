import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes
import ServiceKit

/// One connection's part of `FastToolCalls`: collects a request that may be a fast call, sends it
/// to its shard from the event loop and writes the reply; every other request passes on to
/// Hummingbird's router untouched. Answers leave in the order their requests came (HTTP/1.1
/// pipelining): a request that arrives while a fast call runs waits for its reply, and none is
/// taken for the fast lane while Hummingbird still owes an answer.
final class FastToolCallHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        case idle
        /// A request that may be a fast call, its body coming in.
        case collecting(HTTPRequest, ProfileEndpoints, ByteBuffer)
        /// A request Hummingbird serves: its parts pass through.
        case passing
        /// A fast call waiting for its shard (nil: it waits for a task); whether the client asked
        /// to close the connection after it.
        case calling(HTTP1PendingResponse?, closeAfter: Bool)
    }

    private let lane: FastToolCalls
    private var state = State.idle
    /// Requests handed to Hummingbird whose response has not ended yet.
    private var unansweredPassed = 0
    /// What arrived while a fast call ran, handled after its reply.
    private var queued: [HTTPRequestPart] = []
    /// A pipelining client may send this much before it has to wait for answers.
    private static let maxQueued = 1024
    /// Hummingbird's graceful-shutdown signal, held while a fast call is in flight: Hummingbird
    /// never saw that request and would close the connection under it.
    private var heldQuiesce: Any?

    init(lane: FastToolCalls) {
        self.lane = lane
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
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
            if unansweredPassed == 0, let endpoint = lane.endpoint(for: head) {
                state = .collecting(head, endpoint, ByteBuffer())
            } else {
                pass(head, context: context)
            }
        case (.collecting(let head, let endpoint, var body), .body(var bytes)):
            if body.readableBytes + bytes.readableBytes > lane.maxBodyBytes {
                // Too large for the lane: Hummingbird answers it (413).
                pass(head, body: body, context: context)
                context.fireChannelRead(wrapInboundOut(.body(bytes)))
            } else {
                state = .idle  // lets the append below write in place
                body.writeBuffer(&bytes)
                state = .collecting(head, endpoint, body)
            }
        case (.collecting(let head, let endpoint, let body), .end(let trailers)):
            if FastToolCalls.mayBeToolCall(body), let call = endpoint.fastCall(head: head, body: body, remoteAddress: context.channel.remoteAddress) {
                start(call, closeAfter: FastToolCalls.closesAfterReply(head) == true, context: context)
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

    /// Hands a request to Hummingbird (with the body collected so far).
    private func pass(_ head: HTTPRequest, body: ByteBuffer? = nil, context: ChannelHandlerContext) {
        state = .passing
        unansweredPassed += 1
        context.fireChannelRead(wrapInboundOut(.head(head)))
        if let body, body.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(.body(body))) }
        releaseQuiesce(context: context)
    }

    private func start(_ call: FastToolCall, closeAfter: Bool, context: ChannelHandlerContext) {
        guard let pending = call.send(on: context.eventLoop) else {
            state = .calling(nil, closeAfter: closeAfter)
            return finish(call.normalPath(), context: context)
        }
        state = .calling(pending, closeAfter: closeAfter)
        pending.response.assumeIsolated().whenComplete { result in
            self.finish(call.outcome(result), context: context)
        }
    }

    private func finish(_ outcome: FastToolCall.Outcome, context: ChannelHandlerContext) {
        switch outcome {
        case .reply(let reply):
            respond(reply, context: context)
        case .later(let work):
            let handler = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            Task {
                let reply = await work()
                handler.eventLoop.execute {
                    let (handler, context) = handler.value
                    handler.respond(reply, context: context)
                }
            }
        }
    }

    /// Writes the reply (none when the client has gone), then serves whatever waited for it.
    private func respond(_ reply: FastToolCall.Reply?, context: ChannelHandlerContext) {
        guard case .calling(_, let closeAfter) = state else { return }
        state = .idle
        if let reply, context.channel.isActive {
            let body = ByteBuffer(bytes: reply.body)
            var fields = HTTPFields()
            for (name, value) in reply.headers {
                if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
            }
            fields[.contentLength] = String(body.readableBytes)
            fields[.date] = HTTPDate.now
            context.write(wrapOutboundOut(.head(HTTPResponse(status: .init(code: reply.status), headerFields: fields))), promise: nil)
            if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(body)), promise: nil) }
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

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), unansweredPassed > 0 { unansweredPassed -= 1 }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch (state, event) {
        case (.calling, is ChannelShouldQuiesceEvent), (.collecting, is ChannelShouldQuiesceEvent):
            heldQuiesce = event
            return
        case (.calling(let pending, _), let channelEvent as ChannelEvent) where channelEvent == .inputClosed:
            // MCP 2026-07-28: closing the request is how a client cancels it.
            pending?.cancel()
        default:
            break
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .calling(let pending, _) = state { pending?.cancel() }
        context.fireChannelInactive()
    }
}
