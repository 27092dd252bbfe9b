import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTP1
import ServiceKit

/// The pipeline lane for non-streamed chat completions (`PipelineLane`): routed, sent to a
/// plain-`http` deployment (Ollama, a local proxy) and answered on the connection's event loop,
/// with no Swift task. It takes a request only when nothing on its way needs to wait: a valid key
/// and body, budget totals read in the last second (if budgets are set), a cache in process (or none needed), a
/// first deployment that can be called at once. Anything else goes on to the Hummingbird route
/// unchanged. Once a request is routed the lane owns it: a failed first call goes on to the
/// fallbacks in a task (`RouterAPI.completeChat(_:firstFailure:)`, the route's own code).
///
/// Why: at low load the router's overhead is its CPU per request, and most of it was the
/// hand-offs between Hummingbird's request task and the event loops (docs/BENCHMARKS.md).
struct ChatLane: PipelineLane {
    let api: RouterAPI

    var maxBodyBytes: Int { api.settings.maxBodyBytes }

    func target(for head: HTTPRequest) -> Void? {
        guard head.method == .post, head.path == "/v1/chat/completions" || head.path == "/chat/completions" else { return nil }
        return ()
    }

    func call(head: HTTPRequest, body: ByteBuffer, target: Void, remoteAddress: SocketAddress?) -> ChatLaneCall? {
        // What the lane declines here the route answers, errors included.
        guard let recorder = api.usage as? any ImmediateUsageRecording,
              let keyName = try? api.authorize(authorization: head.headerFields[.authorization]),
              let json = try? JSONValue.parse(body.readableBytesView), let chat = try? ChatRequest(body: json), !chat.stream
        else { return nil }
        let config = api.configs.current
        // Budget totals not read in the last second: the route asks the database.
        guard let budgetExceeded = BudgetCheck.exceededNow(config: config, store: recorder) else { return nil }
        return ChatLaneCall(api: api, recorder: recorder, chat: chat, keyName: keyName, config: config, budgetExceeded: budgetExceeded)
    }

    /// The router's HTTP/1 server: `ClientDisconnect` and this lane in every connection.
    var server: HTTPServerBuilder {
        .suiteHTTP1([ClientDisconnect(), PipelineLaneHandler(lane: self)])
    }
}

/// One chat request on the lane. Used on its connection's event loop only.
final class ChatLaneCall: PipelineCall {
    private let api: RouterAPI
    private let recorder: any ImmediateUsageRecording
    private let chat: ChatRequest
    private let keyName: String
    private let config: RouterConfig
    private let budgetExceeded: Bool
    private let start = ContinuousClock.now
    /// Set once the request is routed and sent.
    private var sent: (call: ChatCall, deployment: Deployment, request: CompletionRequest, adapter: any ProviderAdapter, at: ContinuousClock.Instant)?

    init(api: RouterAPI, recorder: any ImmediateUsageRecording, chat: ChatRequest, keyName: String, config: RouterConfig, budgetExceeded: Bool) {
        self.api = api
        self.recorder = recorder
        self.chat = chat
        self.keyName = keyName
        self.config = config
        self.budgetExceeded = budgetExceeded
    }

    func start(on eventLoop: any EventLoop) -> PipelineStart {
        let call: ChatCall
        do { call = try api.prepare(chat, keyName: keyName, config: config, start: start, budgetExceeded: budgetExceeded) } catch {
            return .settled(.reply(error.reply.pipelineReply))
        }
        if let cacheKey = call.cacheKey {
            guard let cache = api.cache as? any ImmediateResponseCache else { return .settled(routeRest(call)) }
            if let hit = cache.cachedNow(cacheKey), let (reply, record) = api.cacheHit(call, hit) {
                recorder.recordNow(record)
                return .settled(.reply(reply.pipelineReply))
            }
        }
        // From here the cache (if any) was asked: the route need not ask it again.
        let dispatcher = api.dispatcher
        // Plain http only: a cloud provider's TLS exchange is AsyncHTTPClient's (and takes far
        // longer than the hand-offs the lane saves).
        guard let deployment = dispatcher.first(for: call.decision) else { return .settled(routeRest(call, cacheAsked: true)) }
        let adapter = dispatcher.adapters.adapter(for: deployment.provider)
        guard let request = adapter.readyCompletionRequest(chat, deployment: deployment),
              let client = adapter.http.plainClient, let target = HTTP1Target(url: request.url),
              // Last: it counts the call against the deployment's rpm/tpm limits.
              dispatcher.limits.admit(deployment, tokens: call.decision.contextTokens) == nil
        else { return .settled(routeRest(call, cacheAsked: true)) }
        var headers = HTTPHeaders([("content-type", "application/json")])
        headers.add(contentsOf: request.headers)
        sent = (call, deployment, request, adapter, .now)
        let pending = client.send(
            HTTP1Request(target: target, method: .POST, headers: headers, body: ByteBuffer(bytes: request.body.encoded())),
            on: eventLoop, timeout: .milliseconds(Int64(config.timeoutSeconds * 1000)), maxResponseBytes: UpstreamHTTP.maxResponseBytes)
        RouterMetrics.laneRequest(deployment: deployment.name)
        return .sent(pending)
    }

    func outcome(_ result: Result<HTTP1CollectedResponse, any Error>) -> PipelineOutcome {
        guard let sent else { return .reply(nil) }
        do {
            let answer: HTTP1CollectedResponse
            do { answer = try result.get() } catch { throw UpstreamHTTP.failure(error, timeout: config.timeoutSeconds) }
            guard (200..<300).contains(answer.status.code) else {
                throw UpstreamHTTP.failure(status: Int(answer.status.code), headers: answer.headers, body: answer.body)
            }
            let value = try sent.adapter.completionResult(try UpstreamHTTP.json(answer.body), of: sent.request, request: chat, deployment: sent.deployment)
            api.dispatcher.succeeded(sent.deployment, value)
            let outcome = Dispatcher.Outcome(value: value, deployment: sent.deployment, fallbacks: 0, upstreamSeconds: (ContinuousClock.now - sent.at).seconds)
            let (reply, record, cacheValue) = api.completed(sent.call, outcome)
            if let cacheKey = sent.call.cacheKey, let cacheValue, let cache = api.cache as? any ImmediateResponseCache {
                cache.storeNow(cacheKey, cacheValue, ttl: config.cacheTTLSeconds)
            }
            recorder.recordNow(record)
            return .reply(reply.pipelineReply)
        } catch let failure as UpstreamError {
            return routeRest(sent.call, firstFailure: failure)
        } catch is CancellationError {
            // The client hung up: nobody to answer, nothing recorded, as on the route.
            return .reply(nil)
        } catch {
            return routeRest(sent.call, firstFailure: .protocolError("\(error)"))
        }
    }

    /// The rest of the route's work in a task: retries, fallbacks, a cache in Redis.
    private func routeRest(_ call: ChatCall, cacheAsked: Bool = false, firstFailure: UpstreamError? = nil) -> PipelineOutcome {
        .later(cancelOnHangUp: true) { [api] in
            do throws(RouterError) {
                return try await api.completeChat(call, cacheAsked: cacheAsked, firstFailure: firstFailure).pipelineReply
            } catch {
                return error.code == RouterError.clientGone.code ? nil : error.reply.pipelineReply
            }
        }
    }
}
