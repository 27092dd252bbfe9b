import Foundation
import NIOCore
import NIOPosix
import ServiceKit
import Synchronization

/// A socket server that reads HTTP/1.1 requests (head plus Content-Length body) and answers each
/// with the raw steps its script returns. Counts connections opened and closed.
public final class ScriptedHTTPServer: Sendable {
    public struct ReceivedRequest: Sendable {
        public let number: Int
        public let method: String
        public let target: String
        public let headers: [(String, String)]
        public let body: String
        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    public enum Step: Sendable {
        case write(String)
        case pause(Duration)
        case close
    }

    public typealias Script = @Sendable (ReceivedRequest, _ connection: Int) -> [Step]

    private struct Counters {
        var accepted = 0
        var closed = 0
        public var requests: [ReceivedRequest] = []
    }

    private let counters = Mutex(Counters())
    private let channel: Mutex<(any Channel)?> = Mutex(nil)
    public private(set) var port: Int { get { portValue.withLock { $0 } } set { portValue.withLock { $0 = newValue } } }
    private let portValue = Mutex(0)
    private let script: Script

    public var connectionsAccepted: Int { counters.withLock { $0.accepted } }
    public var connectionsClosed: Int { counters.withLock { $0.closed } }
    public var requests: [ReceivedRequest] { counters.withLock { $0.requests } }

    private init(script: @escaping Script) { self.script = script }

    public static func start(script: @escaping Script) async throws -> ScriptedHTTPServer {
        let server = ScriptedHTTPServer(script: script)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = server.counters.withLock { counters in
                        counters.accepted += 1
                        return counters.accepted
                    }
                    channel.closeFuture.whenComplete { _ in server.counters.withLock { $0.closed += 1 } }
                    try channel.pipeline.syncOperations.addHandler(ScriptedConnectionHandler(server: server, connection: connection))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        server.channel.withLock { $0 = channel }
        server.port = channel.localAddress?.port ?? 0
        return server
    }

    public func stop() {
        channel.withLock { $0?.close(promise: nil) }
    }

    fileprivate func answer(_ request: ReceivedRequest, connection: Int) -> [Step] { script(request, connection) }

    fileprivate func received(method: String, target: String, headers: [(String, String)], body: String) -> ReceivedRequest {
        counters.withLock { counters in
            let request = ReceivedRequest(number: counters.requests.count, method: method, target: target, headers: headers, body: body)
            counters.requests.append(request)
            return request
        }
    }
}

/// Buffers bytes until a whole request is in, then plays the script's steps for it.
private final class ScriptedConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let server: ScriptedHTTPServer
    let connection: Int
    var pending: [UInt8] = []

    init(server: ScriptedHTTPServer, connection: Int) {
        self.server = server
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending += unwrapInboundIn(data).readableBytesView
        while let request = takeRequest() {
            play(server.answer(request, connection: connection), context: context)
        }
    }

    private func takeRequest() -> ScriptedHTTPServer.ReceivedRequest? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = pending.indices.dropLast(3).first(where: { Array(pending[$0..<$0 + 4]) == separator }) else { return nil }
        let lines = String(decoding: pending[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        guard pending.count >= end + 4 + length else { return nil }
        let body = String(decoding: pending[(end + 4)..<(end + 4 + length)], as: UTF8.self)
        pending.removeFirst(end + 4 + length)
        return server.received(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: body)
    }

    private func play(_ steps: [ScriptedHTTPServer.Step], context: ChannelHandlerContext) {
        guard let step = steps.first else { return }
        let rest = Array(steps.dropFirst())
        switch step {
        case .write(let text):
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
            play(rest, context: context)
        case .pause(let duration):
            context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(duration.seconds * 1e9))) {
                self.play(rest, context: context)
            }
        case .close:
            context.close(promise: nil)
        }
    }
}
