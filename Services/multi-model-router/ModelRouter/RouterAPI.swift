import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceKit

/// The OpenAI-compatible endpoints plus the router's own: `/v1/chat/completions`, `/v1/models`,
/// `/v1/route/explain`, `/api/v1/usage`.
struct RouterAPI: Sendable {
    let settings: RouterSettings
    let configs: ConfigStore
    let engine: RoutingEngine
    let dispatcher: Dispatcher
    let usage: any UsageStore
    let cache: any ResponseCache
    let logger: Logger

    func addRoutes(to router: Router<DisconnectAwareRequestContext>) {
        router.get("/v1/models") { request, _ in try models(request) }
        router.get("/models") { request, _ in try models(request) }
        router.post("/v1/chat/completions", use: chat)
        router.post("/chat/completions", use: chat)
        router.post("/v1/embeddings") { request, _ in try await embeddings(request) }
        router.post("/v1/route/explain") { request, _ in try await explain(request) }
        router.get("/api/v1/usage") { request, _ in try await usageReport(request) }
    }

    // MARK: - Auth

    /// The name of the key the caller used; `anonymous` when the router is open.
    func authorize(_ request: Request) throws -> String {
        try authorize(authorization: request.headers[.authorization])
    }

    func authorize(authorization: String?) throws(RouterError) -> String {
        guard !settings.apiKeys.isEmpty else { return "anonymous" }
        let header = authorization ?? ""
        let token = header.hasPrefix("Bearer ") ? String(HeaderText.trimmed(header.dropFirst(7))) : ""
        for (name, key) in settings.apiKeys where Self.constantTimeEqual(key, token) { return name }
        throw RouterError(.unauthorized, header.isEmpty ? "missing Authorization: Bearer header" : "invalid API key", type: "authentication_error", code: "invalid_api_key")
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = x.count ^ y.count
        for i in 0..<max(x.count, y.count) { diff |= Int((i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)) }
        return diff == 0
    }

    // MARK: - Models

    func models(_ request: Request) throws -> Response {
        _ = try authorize(request)
        let config = configs.current
        let names = config.modelNames + ["auto"] + config.aliases.keys.sorted()
        var seen = Set<String>()
        let data: [JSONValue] = names.filter { seen.insert($0).inserted }.map {
            ["id": .string($0), "object": "model", "created": .int(0), "owned_by": "multi-model-router"]
        }
        return jsonResponse(["object": "list", "data": .array(data)])
    }

    // MARK: - Chat

    func readRequest(_ request: Request) async throws -> ChatRequest {
        let buffer = try await request.collectBody(upTo: settings.maxBodyBytes)
        let body: JSONValue
        do { body = try JSONValue.parse(buffer.readableBytesView) } catch {
            throw RouterError.invalidRequest("request body is not valid JSON")
        }
        return try ChatRequest(body: body)
    }

    /// A client that goes away before the answer (Open WebUI's stop button on a non-streamed
    /// request) cancels the upstream call: no tokens are paid for that nobody reads. A stream
    /// stops when writing to the gone client fails.
    @Sendable func chat(_ request: Request, context: DisconnectAwareRequestContext) async throws -> Response {
        let logger = context.logger
        return try await context.cancellingOnDisconnect { try await chat(request, logger: logger) }
    }

    func chat(_ request: Request, logger: Logger) async throws -> Response {
        let start = ContinuousClock.now
        let keyName = try authorize(request)
        let chat = try await readRequest(request)
        let config = configs.current
        let call = try prepare(chat, keyName: keyName, config: config, start: start,
                               budgetExceeded: await BudgetCheck.exceeded(config: config, store: usage))
        if chat.stream { return try await streamChat(call) }
        return try await completeChat(call).response
    }

    /// Decides where a request goes (the one place, for both the route and `ChatLane`).
    func prepare(_ chat: ChatRequest, keyName: String, config: RouterConfig, start: ContinuousClock.Instant, budgetExceeded: Bool) throws(RouterError) -> ChatCall {
        let decision = try engine.decide(chat, config: config, budgetExceeded: budgetExceeded)
        let record = UsageRecord(time: Date(), keyName: keyName, requestedModel: chat.model, chosenModel: decision.target, reason: decision.reason,
                                 usage: TokenUsage(), costUSD: 0, latencyMs: 0, firstTokenMs: nil, outcome: "ok")
        return ChatCall(chat: chat, decision: decision, config: config, start: start, record: record,
                        cacheKey: CacheKey.make(target: decision.target, body: chat.body))
    }

    /// A non-streamed answer: from the cache, or from the deployments in turn. `cacheAsked`: the
    /// pipeline lane asked the cache already and missed. `firstFailure`: the lane called the first
    /// deployment already, and it failed so (the cache was asked too).
    func completeChat(_ call: ChatCall, cacheAsked: Bool = false, firstFailure: UpstreamError? = nil) async throws(RouterError) -> ChatReply {
        if !cacheAsked, firstFailure == nil, let cacheKey = call.cacheKey, let hit = await cache.get(cacheKey), let (reply, record) = cacheHit(call, hit) {
            await usage.record(record)
            return reply
        }
        let outcome: Dispatcher.Outcome<ChatResult>
        do {
            outcome = try await dispatcher.complete(call.chat, decision: call.decision, config: call.config, firstFailure: firstFailure)
        } catch let error as RouterError {
            await usage.record(failed(call.record, error: error, start: call.start))
            throw error
        } catch is CancellationError {
            throw RouterError.clientGone
        } catch {
            throw RouterError(.internalServerError, "the request failed: \(error)", type: "api_error")
        }
        let (reply, record, cacheValue) = completed(call, outcome)
        if let cacheKey = call.cacheKey, let cacheValue { await cache.set(cacheKey, cacheValue, ttl: call.config.cacheTTLSeconds) }
        await usage.record(record)
        return reply
    }

    /// The answer for a cache hit, and its usage record.
    func cacheHit(_ call: ChatCall, _ hit: String) -> (ChatReply, UsageRecord)? {
        guard let json = try? JSONValue.parse(hit) else { return nil }
        var record = call.record
        record.outcome = "cache_hit"
        record.chosenModel = json["model"]?.stringValue ?? call.decision.target
        record.latencyMs = (ContinuousClock.now - call.start).seconds * 1000
        RouterMetrics.request(model: record.chosenModel, outcome: "cache_hit")
        var headers = routerHeaders(model: record.chosenModel, reason: call.decision.reason + " cache=hit", cost: 0, overhead: (ContinuousClock.now - call.start).seconds)
        headers[RouterHeader.cache] = "hit"
        return (jsonReply(json, headers: headers), record)
    }

    /// The answer for a deployment's result, its usage record, and what to cache (if cacheable).
    func completed(_ call: ChatCall, _ outcome: Dispatcher.Outcome<ChatResult>) -> (ChatReply, UsageRecord, cacheValue: String?) {
        let result = outcome.value
        let cost = outcome.deployment.cost(of: result.usage)
        var message: JSONValue = ["role": "assistant", "content": result.content.isEmpty && !result.toolCalls.isEmpty ? .null : .string(result.content), "refusal": .null]
        if !result.toolCalls.isEmpty { message["tool_calls"] = .array(result.toolCalls.map(\.openAI)) }
        let body: JSONValue = [
            "id": .string(Self.completionID()), "object": "chat.completion", "created": .int(Int(Date().timeIntervalSince1970)),
            "model": .string(outcome.deployment.name),
            "choices": [["index": 0, "message": message, "finish_reason": .string(result.finishReason), "logprobs": .null]],
            "usage": result.usage.openAI, "system_fingerprint": .null,
        ]
        let overhead = (ContinuousClock.now - call.start).seconds - outcome.upstreamSeconds
        var record = call.record
        record.chosenModel = outcome.deployment.name
        record.reason = Self.reason(call.decision, outcome.fallbacks, outcome.deployment)
        record.usage = result.usage
        record.costUSD = cost
        record.latencyMs = (ContinuousClock.now - call.start).seconds * 1000
        RouterMetrics.request(model: outcome.deployment.name, outcome: "ok")
        RouterMetrics.tokens(model: outcome.deployment.name, usage: result.usage)
        RouterMetrics.cost(model: outcome.deployment.name, usd: cost)
        RouterMetrics.upstreamLatency(model: outcome.deployment.name, seconds: outcome.upstreamSeconds)
        RouterMetrics.overhead(seconds: overhead)
        let encoded = body.encoded()
        let reply = ChatReply(status: .ok, headers: jsonHeaders(routerHeaders(model: outcome.deployment.name, reason: record.reason, cost: cost, overhead: overhead)),
                              body: ByteBuffer(bytes: encoded))
        return (reply, record, call.cacheKey == nil ? nil : String(decoding: encoded, as: UTF8.self))
    }

    static func reason(_ decision: RouteDecision, _ fallbacks: Int, _ deployment: Deployment) -> String {
        fallbacks == 0 ? decision.reason : decision.reason + " fallback=\(fallbacks) -> \(deployment.name)"
    }

    /// The usage record of a request that failed.
    func failed(_ record: UsageRecord, error: RouterError, start: ContinuousClock.Instant) -> UsageRecord {
        var record = record
        record.outcome = error.code ?? "error"
        record.latencyMs = (ContinuousClock.now - start).seconds * 1000
        RouterMetrics.request(model: record.chosenModel, outcome: record.outcome)
        return record
    }

    func streamChat(_ call: ChatCall) async throws -> Response {
        let (chat, decision, start) = (call.chat, call.decision, call.start)
        let outcome: Dispatcher.Outcome<Dispatcher.OpenedStream>
        do {
            outcome = try await dispatcher.stream(chat, decision: decision, config: call.config)
        } catch let error as RouterError {
            await usage.record(failed(call.record, error: error, start: start))
            throw error
        }
        let deployment = outcome.deployment
        let opened = outcome.value
        let overhead = (ContinuousClock.now - start).seconds - opened.firstTokenSeconds
        RouterMetrics.overhead(seconds: overhead)
        RouterMetrics.firstToken(model: deployment.name, seconds: opened.firstTokenSeconds)
        var headers = routerHeaders(model: deployment.name, reason: Self.reason(decision, outcome.fallbacks, deployment), cost: nil, overhead: overhead)
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        var record = call.record
        record.chosenModel = deployment.name
        record.reason = Self.reason(decision, outcome.fallbacks, deployment)
        record.firstTokenMs = opened.firstTokenSeconds * 1000
        let finalRecord = record
        let usageStore = usage
        let idle = call.config.streamIdleTimeoutSeconds
        let logger = self.logger
        let body = ResponseBody { writer in
            var writer = writer
            let chunks = StreamChunks(id: Self.completionID(), model: deployment.name, includeUsage: chat.includeUsage)
            var record = finalRecord
            var providerUsage: TokenUsage?
            var producedChars = 0
            /// Counts what an event carries; its chunk for the client, if any.
            func take(_ event: ChatEvent) -> ByteBuffer? {
                switch event {
                case .usage(let u): providerUsage = u
                case .text(let t): producedChars += t.utf8.count
                case .toolCallArguments(_, let f): producedChars += f.utf8.count
                case .toolCallStart(_, _, let n): producedChars += n.utf8.count
                case .finish: break
                }
                return chunks.chunk(for: event)
            }
            // The role and what was held back until the first token leave in one write: the
            // first token reaches the client a write (a hop to the event loop) sooner.
            var first = chunks.role()
            for event in opened.buffered {
                if var data = take(event) { first.writeBuffer(&data) }
            }
            try await writer.write(first)
            do {
                while let event = try await opened.stream.next(timeout: idle) {
                    if let data = take(event) { try await writer.write(data) }
                }
            } catch {
                // Headers are out: the failure can only be told in-band, and never with [DONE].
                let upstream = (error as? UpstreamError)
                logger.warning("stream failed after the first token", metadata: ["deployment": "\(deployment.name)", "error": "\(error)"])
                let errorJSON: JSONValue = ["error": ["message": .string("upstream stream failed: \(upstream.map { "\($0)" } ?? "\(error)")"), "type": "api_error", "code": .string(upstream?.outcome ?? "stream_error")]]
                try? await writer.write(ByteBuffer(string: "data: \(errorJSON.serialized())\n\n"))
                try? await writer.finish(nil)
                record.outcome = "stream_error"
                record.usage = providerUsage ?? Self.estimate(chat, producedChars)
                record.costUSD = deployment.cost(of: record.usage)
                record.latencyMs = (ContinuousClock.now - start).seconds * 1000
                await usageStore.record(record)
                RouterMetrics.request(model: deployment.name, outcome: "stream_error")
                return
            }
            let used = providerUsage ?? Self.estimate(chat, producedChars)
            if chat.includeUsage { try await writer.write(chunks.usage(used)) }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
            record.usage = used
            record.costUSD = deployment.cost(of: used)
            record.latencyMs = (ContinuousClock.now - start).seconds * 1000
            await usageStore.record(record)
            RouterMetrics.request(model: deployment.name, outcome: "ok")
            RouterMetrics.tokens(model: deployment.name, usage: used)
            RouterMetrics.cost(model: deployment.name, usd: record.costUSD)
            RouterMetrics.upstreamLatency(model: deployment.name, seconds: record.latencyMs / 1000)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// The router's own count when a stream ended without the provider's usage.
    static func estimate(_ chat: ChatRequest, _ producedChars: Int) -> TokenUsage {
        TokenUsage(promptTokens: chat.estimatedPromptTokens, completionTokens: (producedChars + 3) / 4, estimated: true)
    }

    // MARK: - Explain and usage

    func explain(_ request: Request) async throws -> Response {
        _ = try authorize(request)
        let chat = try await readRequest(request)
        let config = configs.current
        let decision = try engine.decide(chat, config: config, budgetExceeded: await BudgetCheck.exceeded(config: config, store: usage))
        var json = decision.json
        json["private_data"] = .array(RequestClassifier.privateData(in: chat).map(JSONValue.string))
        json["background_task"] = RequestClassifier.backgroundTask(of: chat).map(JSONValue.string) ?? .null
        return jsonResponse(json)
    }

    func usageReport(_ request: Request) async throws -> Response {
        _ = try authorize(request)
        let group = request.uri.queryParameters.get("group_by") ?? "model"
        guard ["model", "key", "day"].contains(group) else { throw RouterError.invalidRequest("group_by must be model, key or day", param: "group_by") }
        return jsonResponse(["object": "list", "group_by": .string(group), "data": .array(await usage.summary(groupBy: group))])
    }

    // MARK: - Helpers

    func routerHeaders(model: String, reason: String, cost: Double?, overhead: Double) -> HTTPFields {
        var headers = HTTPFields()
        headers[RouterHeader.model] = model
        headers[RouterHeader.reason] = reason
        if let cost { headers[RouterHeader.cost] = DecimalText.fixed(cost, places: 6) }
        headers[RouterHeader.overhead] = DecimalText.fixed(max(0, overhead) * 1000, places: 3)
        return headers
    }

    func jsonResponse(_ json: JSONValue, headers: HTTPFields = [:]) -> Response {
        jsonReply(json, headers: headers).response
    }

    func jsonReply(_ json: JSONValue, headers: HTTPFields = [:]) -> ChatReply {
        ChatReply(status: .ok, headers: jsonHeaders(headers), body: ByteBuffer(bytes: json.encoded()))
    }

    func jsonHeaders(_ headers: HTTPFields) -> HTTPFields {
        var headers = headers
        headers[.contentType] = "application/json"
        return headers
    }

    static func completionID() -> String { "chatcmpl-" + UUID.hexDigits() }
}

/// Builds OpenAI `chat.completion.chunk` events.
struct StreamChunks {
    let id: String
    let model: String
    let includeUsage: Bool
    let created = Int(Date().timeIntervalSince1970)

    func frame(_ choices: JSONValue, usage: JSONValue? = nil) -> ByteBuffer {
        var json: JSONValue = ["id": .string(id), "object": "chat.completion.chunk", "created": .int(created), "model": .string(model), "choices": choices]
        if includeUsage { json["usage"] = usage ?? .null }
        return ByteBuffer(string: "data: \(json.serialized())\n\n")
    }

    func delta(_ delta: JSONValue, finish: String? = nil) -> ByteBuffer {
        frame([["index": 0, "delta": delta, "finish_reason": finish.map(JSONValue.string) ?? .null, "logprobs": .null]])
    }

    func role() -> ByteBuffer { delta(["role": "assistant", "content": ""]) }

    func chunk(for event: ChatEvent) -> ByteBuffer? {
        switch event {
        case .text(let t): return t.isEmpty ? nil : delta(["content": .string(t)])
        case .toolCallStart(let index, let id, let name):
            return delta(["tool_calls": [["index": .int(index), "id": .string(id), "type": "function", "function": ["name": .string(name), "arguments": ""]]]])
        case .toolCallArguments(let index, let fragment):
            return delta(["tool_calls": [["index": .int(index), "function": ["arguments": .string(fragment)]]]])
        case .finish(let reason): return delta([:], finish: reason)
        case .usage: return nil
        }
    }

    func usage(_ usage: TokenUsage) -> ByteBuffer { frame([], usage: usage.openAI) }
}
