import NIOCore
import NIOHTTP1
import NIOPosix

// A forwarder on bare SwiftNIO: each client connection gets one upstream connection on the same
// event loop, and HTTP/1.1 parts are relayed as they come (no Hummingbird, no AsyncHTTPClient, no
// Swift concurrency). Benchmark only: what one more hop costs on NIO itself, next to
// Tests/Benchmarks/ProxyFloor (the services' stack) and nginx.
//
// usage: nio-floor <port> <upstream-port>   (upstream on 127.0.0.1)

let arguments = CommandLine.arguments
guard arguments.count == 3, let port = Int(arguments[1]), let upstreamPort = Int(arguments[2]) else {
    print("usage: nio-floor <port> <upstream-port>")
    exit(2)
}

/// Upstream side: relays response parts to the client connection.
final class UpstreamHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let downstream: any Channel
    init(downstream: any Channel) { self.downstream = downstream }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            downstream.write(HTTPServerResponsePart.head(head), promise: nil)
        case .body(let bytes):
            downstream.write(HTTPServerResponsePart.body(.byteBuffer(bytes)), promise: nil)
        case .end(let trailers):
            downstream.writeAndFlush(HTTPServerResponsePart.end(trailers), promise: nil)
        }
    }
    func channelInactive(context: ChannelHandlerContext) { downstream.close(promise: nil) }
}

/// Client side: opens the upstream connection once, then relays request parts to it.
final class DownstreamHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    let upstreamPort: Int
    var upstream: EventLoopFuture<any Channel>?
    init(upstreamPort: Int) { self.upstreamPort = upstreamPort }

    func channelActive(context: ChannelHandlerContext) {
        let downstream = context.channel
        upstream = ClientBootstrap(group: context.eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler(downstream: downstream))
                }
            }
            .connect(host: "127.0.0.1", port: self.upstreamPort)
        upstream?.whenFailure { _ in downstream.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part: HTTPClientRequestPart
        switch unwrapInboundIn(data) {
        case .head(let head): part = .head(head)
        case .body(let bytes): part = .body(.byteBuffer(bytes))
        case .end(let trailers): part = .end(trailers)
        }
        upstream?.whenSuccess { channel in
            if case .end = part { channel.writeAndFlush(part, promise: nil) } else { channel.write(part, promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        upstream?.whenSuccess { $0.close(promise: nil) }
    }
}

let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false)
            try channel.pipeline.syncOperations.addHandler(DownstreamHandler(upstreamPort: upstreamPort))
        }
    }
    .bind(host: "127.0.0.1", port: port).get()
try await server.closeFuture.get()
