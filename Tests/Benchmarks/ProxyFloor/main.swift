import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOHTTPTypes
import NIOCore
import NIOHTTP1
import ServiceKit

// A plain HTTP forwarder on the gateway's own stack (Hummingbird server, AsyncHTTPClient client)
// and nothing else: no parsing, routing, metrics or timeouts. scripts/bench/gateway and router put
// it in front of the same upstream, so the table shows what any proxy built on this stack adds on this
// machine next to what the gateway and the router add. Benchmark only.
//
// usage: proxy-floor <port> <target-base-url> [http1client|pipeline]
//   (POST <path> is forwarded to <target-base-url><path>; with `http1client` through ServiceKit's
//   HTTP1Client instead of AsyncHTTPClient; with `pipeline` by a channel handler in Hummingbird's
//   pipeline, through HTTP1Client's event-loop API, with no Swift task)

let arguments = CommandLine.arguments
guard arguments.count == 3 || arguments.count == 4, let port = Int(arguments[1]) else {
    print("usage: proxy-floor <port> <target-base-url> [http1client]")
    exit(2)
}
let target = arguments[2]
let mode = arguments.count == 4 ? arguments[3] : "asynchttpclient"
let useHTTP1Client = mode == "http1client"
/// Hop-by-hop or recomputed: AsyncHTTPClient and Hummingbird write their own.
let skipped: Set<String> = ["host", "content-length", "connection", "transfer-encoding", "keep-alive"]

// Like the services' client (ServiceKit's HTTPClient.suite): no tracing spans. Unlike it, up to
// 256 HTTP/1.1 connections to the upstream instead of AsyncHTTPClient's 8, so the benchmarks' slow
// levels (64 to 128 calls in flight, each taking 100 to 200 ms) measure the hop, not a queue for
// eight connections (the services use this client for https upstreams, which speak HTTP/2).
let client: HTTPClient = {
    var configuration = HTTPClient.Configuration.singletonConfiguration
    configuration.tracing.tracer = nil
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
}()
let router = Router()
let forward: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
    var outbound = HTTPClientRequest(url: target + request.uri.path)
    outbound.method = HTTPMethod(rawValue: request.method.rawValue)
    for field in request.headers where !skipped.contains(field.name.canonicalName) {
        outbound.headers.add(name: field.name.rawName, value: field.value)
    }
    outbound.body = .bytes(try await request.body.collect(upTo: 16 << 20))
    let answer = try await client.execute(outbound, timeout: .seconds(30))
    var headers = HTTPFields()
    for header in answer.headers where !skipped.contains(header.name.lowercased()) {
        if let name = HTTPField.Name(header.name) { headers.append(HTTPField(name: name, value: header.value)) }
    }
    let body = try await answer.body.collect(upTo: 16 << 20)
    return Response(status: .init(code: Int(answer.status.code)), headers: headers, body: .init(byteBuffer: body))
}
let forwardHTTP1: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
    var headers = HTTPHeaders()
    for field in request.headers where !skipped.contains(field.name.canonicalName) {
        headers.add(name: field.name.rawName, value: field.value)
    }
    let outbound = HTTP1Request(
        url: target + request.uri.path, method: HTTPMethod(rawValue: request.method.rawValue), headers: headers,
        body: try await request.body.collect(upTo: 16 << 20))!
    let answer = try await HTTP1Client.shared.execute(outbound, timeout: .seconds(30))
    var fields = HTTPFields()
    for header in answer.headers where !skipped.contains(header.name.lowercased()) {
        if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
    }
    let body = try await answer.body.collect(upTo: 16 << 20)
    return Response(status: .init(code: Int(answer.status.code)), headers: fields, body: .init(byteBuffer: body))
}
router.post("**", use: useHTTP1Client ? forwardHTTP1 : forward)
router.delete("**", use: useHTTP1Client ? forwardHTTP1 : forward)

/// Answers every POST in the channel pipeline, before Hummingbird's responder sees it.
final class PipelineForwarder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart
    private var head: HTTPRequest?
    private var body = ByteBuffer()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request) where request.method == .post:
            head = request
            body.clear()
        case .body(var bytes) where head != nil:
            body.writeBuffer(&bytes)
        case .end where head != nil:
            let request = head!
            head = nil
            var headers = HTTPHeaders()
            for field in request.headerFields where !skipped.contains(field.name.canonicalName) {
                headers.add(name: field.name.rawName, value: field.value)
            }
            let outbound = HTTP1Request(url: target + (request.path ?? "/"), method: .POST, headers: headers, body: body)!
            let pending = HTTP1Client.shared.send(outbound, on: context.eventLoop, timeout: .seconds(30))
            pending.response.assumeIsolated().whenComplete { result in
                var fields = HTTPFields()
                let status: Int
                let answer: ByteBuffer
                switch result {
                case .success(let response):
                    for header in response.headers where !skipped.contains(header.name.lowercased()) {
                        if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
                    }
                    status = Int(response.status.code)
                    answer = response.body
                case .failure:
                    status = 502
                    answer = ByteBuffer()
                }
                fields[.contentLength] = String(answer.readableBytes)
                context.write(self.wrapOutboundOut(.head(HTTPResponse(status: .init(code: status), headerFields: fields))), promise: nil)
                context.write(self.wrapOutboundOut(.body(answer)), promise: nil)
                context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
            }
        default:
            context.fireChannelRead(data)
        }
    }
}

let app = Application(
    router: router,
    server: mode == "pipeline" ? .http1(configuration: .init(additionalChannelHandlers: [PipelineForwarder()])) : .http1(),
    configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
