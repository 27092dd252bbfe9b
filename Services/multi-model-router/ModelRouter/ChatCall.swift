import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceKit

/// A chat request once routed: what the answer path needs, whichever path answers it (the
/// Hummingbird route or `ChatLane`).
struct ChatCall: Sendable {
    let chat: ChatRequest
    let decision: RouteDecision
    let config: RouterConfig
    let start: ContinuousClock.Instant
    /// The usage record so far (key, requested and chosen model, reason).
    let record: UsageRecord
    /// Set for a deterministic non-streamed request (temperature 0), whose answer is cached.
    let cacheKey: String?
}

/// A whole (non-streamed) answer, for either path to write.
struct ChatReply: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer

    var response: Response { Response(status: status, headers: headers, body: .init(byteBuffer: body)) }
    var pipelineReply: PipelineReply { PipelineReply(status: status, headers: headers, body: body) }
}
