import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTesting
import NIOCore
import NIOHTTPTypes
import NIOPosix
import ServiceKit
import Testing

/// `RequestReadTimeout` with a 300 ms timeout in a real server, raw bytes as the client: stalled
/// requests and idle connections are closed; answers that take longer than the timeout, from
/// Hummingbird's router or from a handler in the pipeline (as the lanes answer), are not cut off.
@Suite struct RequestReadTimeoutTests {
    static func withServer(_ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("slow") { _, _ in
            try await Task.sleep(for: .milliseconds(900))
            return "slow"
        }
        router.post("fast") { _, _ in "ok" }
        let app = Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [RequestReadTimeout(timeout: .milliseconds(300)), SlowPipelineAnswer()])),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body(try #require(client.port)) }
    }

    @Test func aStalledHeadOrBodyIsClosed() async throws {
        try await Self.withServer { port in
            let head = try await Self.exchange(port: port, "GET /slow HTTP/1.1\r\nHost: test\r\n")
            #expect(head.closed && head.received.isEmpty)
            let body = try await Self.exchange(port: port, "POST /fast HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nabc")
            #expect(body.closed)
        }
    }

    @Test func answersLongerThanTheTimeoutArriveWholeAndTheIdleConnectionIsClosedAfter() async throws {
        try await Self.withServer { port in
            let routed = try await Self.exchange(port: port, "GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(routed.closed && routed.received.hasPrefix("HTTP/1.1 200") && routed.received.hasSuffix("slow"), "\(routed.received)")
            let piped = try await Self.exchange(port: port, "GET /pipeline HTTP/1.1\r\nHost: test\r\n\r\n")
            #expect(piped.closed && piped.received.hasPrefix("HTTP/1.1 200") && piped.received.hasSuffix("pipeline"), "\(piped.received)")
        }
    }

    /// Writes `bytes` and reads until the server closes the connection (at most 10 s).
    static func exchange(port: Int, _ bytes: String) async throws -> (received: String, closed: Bool) {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        return try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: bytes))
                    var received = ""
                    for try await chunk in inbound { received += String(buffer: chunk) }
                    return (received, true)
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return ("", false)
            }
            let first = try await group.next()!
            group.cancelAll()
            channel.channel.close(promise: nil)
            return first
        }
    }
}

/// Answers `GET /pipeline` in the channel pipeline 900 ms after the request, as a lane does.
private final class SlowPipelineAnswer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart
    private var taking = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head) where head.path == "/pipeline":
            taking = true
        case .end where taking:
            taking = false
            context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(900)) {
                context.write(self.wrapOutboundOut(.head(HTTPResponse(status: .ok, headerFields: [.contentLength: "8"]))), promise: nil)
                context.write(self.wrapOutboundOut(.body(ByteBuffer(string: "pipeline"))), promise: nil)
                context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            }
        default:
            if !taking { context.fireChannelRead(data) }
        }
    }
}
