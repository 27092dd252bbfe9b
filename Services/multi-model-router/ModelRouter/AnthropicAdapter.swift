import Foundation
import ServiceKit

/// Anthropic Messages API: system at top level, `max_tokens` always sent, tool results merged
/// into one user turn, thinking blocks kept here (keyed by tool-use id) and sent back verbatim.
struct AnthropicAdapter: LookupFreeAdapter {
    let http: UpstreamHTTP
    let memory: ConversationMemory
    static let version = "2023-06-01"
    static let defaultMaxTokens = 4096

    func headers(_ deployment: Deployment) -> [(String, String)] {
        var h = [("anthropic-version", Self.version)]
        if let key = deployment.apiKey { h.append(("x-api-key", key)) }
        return h
    }

    // MARK: - Request

    func body(_ request: ChatRequest, deployment: Deployment, stream: Bool) -> JSONValue {
        var body: JSONValue = [
            "model": .string(deployment.model),
            "max_tokens": .int(request.maxTokens ?? Self.defaultMaxTokens),
            "messages": .array(messages(request.messages)),
        ]
        if stream { body["stream"] = true }
        if let system = OpenAIParts.systemText(request.messages) { body["system"] = .string(system) }
        // Anthropic's range is 0-1; OpenAI clients may send up to 2.
        if let t = request.temperature { body["temperature"] = .number(min(t, 1)) }
        if let p = request.body["top_p"]?.doubleValue { body["top_p"] = .number(p) }
        if let stops = OpenAIParts.stopList(request.body) { body["stop_sequences"] = .array(stops) }
        if let user = request.body["user"]?.stringValue { body["metadata"] = ["user_id": .string(user)] }
        let tools = request.tools.compactMap { t -> JSONValue? in
            guard let f = t["function"], let name = f["name"] else { return nil }
            return ["name": name, "description": f["description"] ?? "", "input_schema": f["parameters"] ?? ["type": "object", "properties": [:]]]
        }
        if !tools.isEmpty {
            body["tools"] = .array(tools)
            var choice: JSONValue?
            switch request.body["tool_choice"] {
            case .string("required")?: choice = ["type": "any"]
            case .string("none")?: choice = ["type": "none"]
            case .string("auto")?: choice = ["type": "auto"]
            case .object(let o)?: if let name = o["function"]?["name"] { choice = ["type": "tool", "name": name] }
            default: break
            }
            if request.body["parallel_tool_calls"]?.boolValue == false {
                choice = choice ?? ["type": "auto"]
                choice?["disable_parallel_tool_use"] = true
            }
            if let choice { body["tool_choice"] = choice }
        }
        return body
    }

    /// OpenAI turns → Anthropic turns: only user/assistant, same-role neighbours merged (which is
    /// what puts N tool results into the one user message Anthropic requires).
    func messages(_ input: [JSONValue]) -> [JSONValue] {
        var out: [(role: String, blocks: [JSONValue])] = []
        func append(_ role: String, _ blocks: [JSONValue]) {
            guard !blocks.isEmpty else { return }
            if out.last?.role == role { out[out.count - 1].blocks += blocks } else { out.append((role, blocks)) }
        }
        for m in input {
            switch m["role"]?.stringValue {
            case "user": append("user", userBlocks(m))
            case "assistant":
                var blocks: [JSONValue] = []
                let calls = m["tool_calls"]?.arrayValue ?? []
                if let first = calls.first?["id"]?.stringValue, let thinking = memory.recall(ConversationMemory.anthropicThinkingKey(first))?.arrayValue {
                    blocks += thinking
                }
                let text = ChatRequest.text(of: m)
                if !text.isEmpty { blocks.append(["type": "text", "text": .string(text)]) }
                for call in calls {
                    blocks.append([
                        "type": "tool_use", "id": call["id"] ?? .string(ToolCall.newID()),
                        "name": call["function"]?["name"] ?? "", "input": OpenAIParts.arguments(call["function"]?["arguments"]?.stringValue),
                    ])
                }
                append("assistant", blocks)
            case "tool":
                append("user", [["type": "tool_result", "tool_use_id": m["tool_call_id"] ?? "", "content": .string(ChatRequest.text(of: m))]])
            default: break  // system/developer go to the top-level `system`
            }
        }
        return out.map { ["role": .string($0.role), "content": .array($0.blocks)] }
    }

    func userBlocks(_ m: JSONValue) -> [JSONValue] {
        if let s = m["content"]?.stringValue { return s.isEmpty ? [] : [["type": "text", "text": .string(s)]] }
        return (m["content"]?.arrayValue ?? []).compactMap { part in
            switch part["type"]?.stringValue {
            case "text": return ["type": "text", "text": part["text"] ?? ""]
            case "image_url":
                let url = part["image_url"]?["url"]?.stringValue ?? ""
                if let d = OpenAIParts.dataURL(url) {
                    return ["type": "image", "source": ["type": "base64", "media_type": .string(d.mime), "data": .string(d.data)]]
                }
                return ["type": "image", "source": ["type": "url", "url": .string(url)]]
            default: return nil
            }
        }
    }

    // MARK: - Response

    func completionRequest(_ request: ChatRequest, deployment: Deployment) -> CompletionRequest {
        CompletionRequest(url: deployment.apiBase + "/v1/messages", headers: headers(deployment), body: body(request, deployment: deployment, stream: false))
    }

    func completionResult(_ json: JSONValue, of call: CompletionRequest, request: ChatRequest, deployment: Deployment) throws -> ChatResult {
        guard let blocks = json["content"]?.arrayValue else { throw UpstreamError.protocolError("response has no content") }
        var text = ""
        var calls: [ToolCall] = []
        var thinking: [JSONValue] = []
        for block in blocks {
            switch block["type"]?.stringValue {
            case "text": text += block["text"]?.stringValue ?? ""
            case "tool_use":
                calls.append(ToolCall(id: block["id"]?.stringValue ?? ToolCall.newID(), name: block["name"]?.stringValue ?? "", arguments: (block["input"] ?? [:]).serialized()))
            case "thinking", "redacted_thinking": thinking.append(block)
            default: break
            }
        }
        keepThinking(thinking, for: calls.map(\.id))
        return ChatResult(content: text, toolCalls: calls, finishReason: Self.finishReason(json["stop_reason"]?.stringValue),
                          usage: Self.usage(json["usage"]), providerModel: json["model"]?.stringValue ?? deployment.model)
    }

    func keepThinking(_ blocks: [JSONValue], for toolUseIDs: [String]) {
        guard !blocks.isEmpty, let first = toolUseIDs.first else { return }
        memory.remember(ConversationMemory.anthropicThinkingKey(first), .array(blocks))
    }

    static func finishReason(_ reason: String?) -> String {
        switch reason {
        case "max_tokens": "length"
        case "tool_use": "tool_calls"
        case "refusal": "content_filter"
        default: "stop"
        }
    }

    /// OpenAI's prompt count includes the cache parts Anthropic reports separately.
    static func usage(_ u: JSONValue?) -> TokenUsage {
        let input = u?["input_tokens"]?.tokenCount ?? 0
        let read = u?["cache_read_input_tokens"]?.tokenCount ?? 0
        let write = u?["cache_creation_input_tokens"]?.tokenCount ?? 0
        return TokenUsage(promptTokens: input + read + write, completionTokens: u?["output_tokens"]?.tokenCount ?? 0, cacheReadTokens: read, cacheWriteTokens: write)
    }

    func stream(_ request: ChatRequest, deployment: Deployment, timeout: Double) async throws -> ChatEventStream {
        let response = try await http.post(url: deployment.apiBase + "/v1/messages", headers: headers(deployment), body: body(request, deployment: deployment, stream: true), timeout: timeout)
        return ChatEventStream(response: response, decoder: Decoder(adapter: self))
    }

    /// Named SSE events → OpenAI deltas; thinking blocks are collected, not shown.
    struct Decoder: StreamDecoder {
        let adapter: AnthropicAdapter
        var sse = SSEParser()
        var usage = TokenUsage()
        var stopReason: String?
        var stopped = false
        /// Anthropic block index → OpenAI tool-call index.
        var toolIndex: [Int: Int] = [:]
        var toolIDs: [String] = []
        var thinking: [Int: JSONValue] = [:]

        mutating func decode(line: [UInt8]) throws -> [ChatEvent] {
            guard let event = sse.feed(line: line) else { return [] }
            return try handle(event)
        }

        mutating func handle(_ event: SSEParser.Event) throws -> [ChatEvent] {
            guard let json = try? JSONValue.parse(event.data) else { throw UpstreamError.protocolError("unreadable stream event") }
            let index = json["index"]?.intValue ?? 0
            switch json["type"]?.stringValue ?? event.event {
            case "message_start":
                usage = AnthropicAdapter.usage(json["message"]?["usage"])
            case "content_block_start":
                let block = json["content_block"] ?? [:]
                switch block["type"]?.stringValue {
                case "tool_use":
                    let id = block["id"]?.stringValue ?? ToolCall.newID()
                    toolIndex[index] = toolIDs.count
                    toolIDs.append(id)
                    return [.toolCallStart(index: toolIndex[index]!, id: id, name: block["name"]?.stringValue ?? "")]
                case "thinking", "redacted_thinking": thinking[index] = block
                case "text": if let t = block["text"]?.stringValue, !t.isEmpty { return [.text(t)] }
                default: break
                }
            case "content_block_delta":
                let delta = json["delta"] ?? [:]
                switch delta["type"]?.stringValue {
                case "text_delta": return [.text(delta["text"]?.stringValue ?? "")]
                case "input_json_delta":
                    if let i = toolIndex[index], let part = delta["partial_json"]?.stringValue, !part.isEmpty { return [.toolCallArguments(index: i, fragment: part)] }
                case "thinking_delta":
                    append(delta["thinking"]?.stringValue, to: "thinking", at: index)
                case "signature_delta":
                    append(delta["signature"]?.stringValue, to: "signature", at: index)
                default: break
                }
            case "message_delta":
                if let r = json["delta"]?["stop_reason"]?.stringValue { stopReason = r }
                if let out = json["usage"]?["output_tokens"]?.tokenCount { usage.completionTokens = out }
            case "message_stop":
                stopped = true
                adapter.keepThinking(thinking.keys.sorted().compactMap { thinking[$0] }, for: toolIDs)
                return [.finish(reason: AnthropicAdapter.finishReason(stopReason)), .usage(usage)]
            case "error":
                let e = json["error"] ?? [:]
                let type = e["type"]?.stringValue ?? "error"
                throw UpstreamError.status(type == "overloaded_error" ? 529 : 500, retryAfter: nil, message: "\(type): \(e["message"]?.stringValue ?? "")")
            default: break  // ping and future events
            }
            return []
        }

        mutating func append(_ text: String?, to field: String, at index: Int) {
            guard var block = thinking[index] else { return }
            block[field] = .string((block[field]?.stringValue ?? "") + (text ?? ""))
            thinking[index] = block
        }

        mutating func finish() throws -> [ChatEvent] {
            let tail = try sse.finish().map { try handle($0) } ?? []
            guard stopped else { throw UpstreamError.connection("stream ended before message_stop") }
            return tail
        }
    }
}
