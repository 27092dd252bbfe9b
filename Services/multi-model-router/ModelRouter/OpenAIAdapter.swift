import Foundation
import ServiceKit

/// OpenAI Chat Completions (and any server speaking it): the request passes through with the
/// provider's model id; the router still reads usage itself.
struct OpenAIAdapter: LookupFreeAdapter {
    let http: UpstreamHTTP

    func body(_ request: ChatRequest, deployment: Deployment, stream: Bool) -> JSONValue {
        var body = request.body
        body["model"] = .string(deployment.model)
        body["stream"] = .bool(stream)
        if stream { body["stream_options"] = ["include_usage": true] } else { body["stream_options"] = nil }
        return body
    }

    func headers(_ deployment: Deployment) -> [(String, String)] {
        deployment.apiKey.map { [("authorization", "Bearer " + $0)] } ?? []
    }

    func completionRequest(_ request: ChatRequest, deployment: Deployment) -> CompletionRequest {
        CompletionRequest(url: deployment.apiBase + "/chat/completions", headers: headers(deployment), body: body(request, deployment: deployment, stream: false))
    }

    func completionResult(_ json: JSONValue, of call: CompletionRequest, request: ChatRequest, deployment: Deployment) throws -> ChatResult {
        guard let choice = json["choices"]?.arrayValue?.first else { throw UpstreamError.protocolError("response has no choices") }
        let message = choice["message"] ?? [:]
        let calls = (message["tool_calls"]?.arrayValue ?? []).map { call in
            ToolCall(id: call["id"]?.stringValue ?? ToolCall.newID(), name: call["function"]?["name"]?.stringValue ?? "",
                     arguments: call["function"]?["arguments"]?.stringValue ?? "{}")
        }
        return ChatResult(
            content: message["content"]?.stringValue ?? "", toolCalls: calls,
            finishReason: choice["finish_reason"]?.stringValue ?? (calls.isEmpty ? "stop" : "tool_calls"),
            usage: Self.usage(json["usage"]) ?? TokenUsage(), providerModel: json["model"]?.stringValue ?? deployment.model)
    }

    func stream(_ request: ChatRequest, deployment: Deployment, timeout: Double) async throws -> ChatEventStream {
        let response = try await http.post(url: deployment.apiBase + "/chat/completions", headers: headers(deployment), body: body(request, deployment: deployment, stream: true), timeout: timeout)
        return ChatEventStream(response: response, decoder: Decoder())
    }

    static func usage(_ u: JSONValue?) -> TokenUsage? {
        guard let u, case .object = u else { return nil }
        return TokenUsage(
            promptTokens: u["prompt_tokens"]?.tokenCount ?? 0, completionTokens: u["completion_tokens"]?.tokenCount ?? 0,
            cacheReadTokens: u["prompt_tokens_details"]?["cached_tokens"]?.tokenCount ?? 0,
            reasoningTokens: u["completion_tokens_details"]?["reasoning_tokens"]?.tokenCount ?? 0)
    }

    struct Decoder: StreamDecoder {
        var sse = SSEParser()
        var done = false

        mutating func decode(line: [UInt8]) throws -> [ChatEvent] {
            guard let event = sse.feed(line: line) else { return [] }
            return try handle(event)
        }

        mutating func handle(_ event: SSEParser.Event) throws -> [ChatEvent] {
            if event.data == "[DONE]" { done = true; return [] }
            guard let json = try? JSONValue.parse(event.data) else { throw UpstreamError.protocolError("unreadable stream chunk") }
            if let error = json["error"], !error.isNull {
                throw UpstreamError.protocolError(error["message"]?.stringValue ?? "error event in stream")
            }
            var events: [ChatEvent] = []
            for choice in json["choices"]?.arrayValue ?? [] {
                let delta = choice["delta"] ?? [:]
                if let text = delta["content"]?.stringValue, !text.isEmpty { events.append(.text(text)) }
                for call in delta["tool_calls"]?.arrayValue ?? [] {
                    let index = call["index"]?.intValue ?? 0
                    if let name = call["function"]?["name"]?.stringValue {
                        events.append(.toolCallStart(index: index, id: call["id"]?.stringValue ?? ToolCall.newID(), name: name))
                    }
                    if let args = call["function"]?["arguments"]?.stringValue, !args.isEmpty {
                        events.append(.toolCallArguments(index: index, fragment: args))
                    }
                }
                if let reason = choice["finish_reason"]?.stringValue { events.append(.finish(reason: reason)) }
            }
            if let usage = OpenAIAdapter.usage(json["usage"]) { events.append(.usage(usage)) }
            return events
        }

        mutating func finish() throws -> [ChatEvent] {
            let tail = try sse.finish().map { try handle($0) } ?? []
            guard done else { throw UpstreamError.connection("stream ended before [DONE]") }
            return tail
        }
    }
}

extension OpenAIAdapter: EmbeddingsAdapter {
    func embed(_ inputs: [String], dimensions: Int?, deployment: Deployment, timeout: Double) async throws -> EmbeddingsResult {
        var body: JSONValue = ["model": .string(deployment.model), "input": .array(inputs.map(JSONValue.string))]
        if let dimensions { body["dimensions"] = .int(dimensions) }
        let response = try await http.post(url: deployment.apiBase + "/embeddings", headers: headers(deployment), body: body, timeout: timeout)
        let json = try await UpstreamHTTP.readBody(response)
        let vectors = (json["data"]?.arrayValue ?? []).sorted { ($0["index"]?.intValue ?? 0) < ($1["index"]?.intValue ?? 0) }.map { $0["embedding"] ?? [] }
        return EmbeddingsResult(vectors: vectors, promptTokens: json["usage"]?["prompt_tokens"]?.tokenCount ?? 0)
    }
}
