import Foundation
import HTTPTypes
import NIOCore

/// A fast lane for one kind of request: answered inside the connection's channel pipeline (a
/// handler Hummingbird's HTTP/1 server runs after its codec, see `PipelineLaneHandler`), with the
/// upstream call made by `HTTP1Client.send(_:on:)` on the connection's own event loop: no Swift
/// task and no thread hop on the success path.
///
/// Why: on these small machines a proxied call's latency at low load is its CPU time, and most of
/// a Hummingbird route's is the hand-offs between the request's task, the upstream connection's
/// event loop and back (docs/BENCHMARKS.md: a forwarder in the pipeline spends about half the CPU
/// per call of the same forwarder as a route). A lane takes only requests it fully understands;
/// anything else goes on to Hummingbird's router unchanged, which stays the one place that knows
/// every answer (errors included).
public protocol PipelineLane: Sendable {
    /// What a request's head tells the lane it is for (an endpoint, a route).
    associatedtype Target
    associatedtype Call: PipelineCall

    /// Requests with a larger body go to Hummingbird (which answers 413).
    var maxBodyBytes: Int { get }

    /// What a request is for when its head says the lane may take it; nil passes it on.
    func target(for head: HTTPRequest) -> Target?

    /// The lane's call for a whole request, or nil to pass the request on to Hummingbird.
    func call(head: HTTPRequest, body: ByteBuffer, target: Target, remoteAddress: SocketAddress?) -> Call?
}

/// One request the lane took.
public protocol PipelineCall {
    /// Starts the call on the connection's event loop.
    func start(on eventLoop: any EventLoop) -> PipelineStart
    /// The client's answer once the upstream answered, or the way the exchange failed.
    func outcome(_ result: Result<HTTP1CollectedResponse, any Error>) -> PipelineOutcome
}

/// How a lane call began.
public enum PipelineStart {
    /// Waiting for the upstream's whole answer.
    case sent(HTTP1PendingResponse)
    /// Settled without an upstream exchange (a cache hit, or work that must run in a task).
    case settled(PipelineOutcome)
}

/// What the client gets.
public enum PipelineOutcome {
    /// An answer now; nil: none (the client has gone).
    case reply(PipelineReply?)
    /// An answer after async work, run in a task. `cancelOnHangUp`: the task is cancelled when the
    /// client hangs up first (work that spends money for nobody, such as a model's answer).
    case later(cancelOnHangUp: Bool, @Sendable () async -> PipelineReply?)
}

/// An HTTP answer the lane writes (`Content-Length` and `Date` are added).
public struct PipelineReply: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: ByteBuffer

    public init(status: Int, headers: [(String, String)], body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: HTTPResponse.Status, headers: HTTPFields, body: ByteBuffer) {
        self.init(status: status.code, headers: headers.map { ($0.name.rawName, $0.value) }, body: body)
    }
}
