import Foundation
import ServiceKit

/// Gemini `generateContent` / `streamGenerateContent?alt=sse`: roles user/model,
/// `systemInstruction`, function calls given ids here, and thought signatures stored by call id
/// and echoed on the next turn.
struct GeminiAdapter: LookupFreeAdapter {
    let http: UpstreamHTTP
    let memory: ConversationMemory

    func headers(_ deployment: Deployment) -> [(String, String)] {
        deployment.apiKey.map { [("x-goog-api-key", $0)] } ?? []
    }

    func url(_ deployment: Deployment, stream: Bool) -> String {
        deployment.apiBase + "/models/" + deployment.model + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent")
    }

    // MARK: - Request

    func body(_ request: ChatRequest) -> JSONValue {
        var body: JSONValue = ["contents": .array(contents(request.messages))]
        if let system = OpenAIParts.systemText(request.messages) { body["systemInstruction"] = ["parts": [["text": .string(system)]]] }
        var generation: [String: JSONValue] = [:]
        if let t = request.temperature { generation["temperature"] = .number(t) }
        if let p = request.body["top_p"]?.doubleValue { generation["topP"] = .number(p) }
        if let m = request.maxTokens { generation["maxOutputTokens"] = .int(m) }
        if let stops = OpenAIParts.stopList(request.body) { generation["stopSequences"] = .array(stops) }
        if let n = request.body["n"]?.intValue { generation["candidateCount"] = .int(n) }
        if let format = request.body["response_format"]?["type"]?.stringValue, format != "text" {
            generation["responseMimeType"] = "application/json"
        }
        if !generation.isEmpty { body["generationConfig"] = .object(generation) }
        let declarations = request.tools.compactMap { t -> JSONValue? in
            guard let f = t["function"], let name = f["name"] else { return nil }
            var d: JSONValue = ["name": name, "description": f["description"] ?? ""]
            if let p = f["parameters"] { d["parameters"] = Self.schema(p) }
            return d
        }
        if !declarations.isEmpty {
            body["tools"] = [["functionDeclarations": .array(declarations)]]
            switch request.body["tool_choice"] {
            case .string("required")?: body["toolConfig"] = ["functionCallingConfig": ["mode": "ANY"]]
            case .string("none")?: body["toolConfig"] = ["functionCallingConfig": ["mode": "NONE"]]
            case .object(let o)?:
                if let name = o["function"]?["name"] { body["toolConfig"] = ["functionCallingConfig": ["mode": "ANY", "allowedFunctionNames": [name]]] }
            default: break
            }
        }
        return body
    }

    /// Gemini takes an OpenAPI subset: keywords it rejects are dropped.
    static func schema(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let o):
            var out: [String: JSONValue] = [:]
            for (k, v) in o where !["$schema", "additionalProperties", "$defs", "definitions", "$ref", "strict", "$id", "examples"].contains(k) {
                out[k] = k == "properties" ? .object((v.objectValue ?? [:]).mapValues(schema)) : schema(v)
            }
            return .object(out)
        case .array(let a): return .array(a.map(schema))
        default: return value
        }
    }

    func contents(_ messages: [JSONValue]) -> [JSONValue] {
        var out: [(role: String, parts: [JSONValue])] = []
        func append(_ role: String, _ parts: [JSONValue]) {
            guard !parts.isEmpty else { return }
            if out.last?.role == role { out[out.count - 1].parts += parts } else { out.append((role, parts)) }
        }
        for m in messages {
            switch m["role"]?.stringValue {
            case "user": append("user", userParts(m))
            case "assistant":
                var parts: [JSONValue] = []
                let text = ChatRequest.text(of: m)
                if !text.isEmpty { parts.append(["text": .string(text)]) }
                for call in m["tool_calls"]?.arrayValue ?? [] {
                    var part: JSONValue = ["functionCall": ["name": call["function"]?["name"] ?? "", "args": OpenAIParts.arguments(call["function"]?["arguments"]?.stringValue)]]
                    if let id = call["id"]?.stringValue, let signature = memory.recall(ConversationMemory.geminiSignatureKey(id)) {
                        part["thoughtSignature"] = signature
                    }
                    parts.append(part)
                }
                append("model", parts)
            case "tool":
                let id = m["tool_call_id"]?.stringValue ?? ""
                let name = OpenAIParts.toolName(for: id, in: messages) ?? id
                let text = ChatRequest.text(of: m)
                let response: JSONValue = (try? JSONValue.parse(text)).flatMap { $0.objectValue != nil ? $0 : nil } ?? ["result": .string(text)]
                append("user", [["functionResponse": ["name": .string(name), "response": response]]])
            default: break
            }
        }
        return out.map { ["role": .string($0.role), "parts": .array($0.parts)] }
    }

    func userParts(_ m: JSONValue) -> [JSONValue] {
        if let s = m["content"]?.stringValue { return s.isEmpty ? [] : [["text": .string(s)]] }
        return (m["content"]?.arrayValue ?? []).compactMap { part in
            switch part["type"]?.stringValue {
            case "text": return ["text": part["text"] ?? ""]
            case "image_url":
                let url = part["image_url"]?["url"]?.stringValue ?? ""
                if let d = OpenAIParts.dataURL(url) { return ["inlineData": ["mimeType": .string(d.mime), "data": .string(d.data)]] }
                return ["fileData": ["fileUri": .string(url)]]
            default: return nil
            }
        }
    }

    // MARK: - Response

    func completionRequest(_ request: ChatRequest, deployment: Deployment) -> CompletionRequest {
        CompletionRequest(url: url(deployment, stream: false), headers: headers(deployment), body: body(request))
    }

    func completionResult(_ json: JSONValue, of call: CompletionRequest, request: ChatRequest, deployment: Deployment) throws -> ChatResult {
        guard let candidate = json["candidates"]?.arrayValue?.first else {
            if json["promptFeedback"]?["blockReason"]?.stringValue != nil {
                return ChatResult(content: "", toolCalls: [], finishReason: "content_filter", usage: Self.usage(json["usageMetadata"]), providerModel: deployment.model)
            }
            throw UpstreamError.protocolError("response has no candidates")
        }
        var text = ""
        var calls: [ToolCall] = []
        for part in candidate["content"]?["parts"]?.arrayValue ?? [] {
            if part["thought"]?.boolValue == true { continue }
            if let t = part["text"]?.stringValue { text += t }
            if let call = toolCall(part) { calls.append(call) }
        }
        return ChatResult(content: text, toolCalls: calls, finishReason: Self.finishReason(candidate["finishReason"]?.stringValue, hasCalls: !calls.isEmpty),
                          usage: Self.usage(json["usageMetadata"]), providerModel: json["modelVersion"]?.stringValue ?? deployment.model)
    }

    /// A function-call part as an OpenAI tool call with a fresh id; its signature is remembered under that id.
    func toolCall(_ part: JSONValue) -> ToolCall? {
        guard let call = part["functionCall"] else { return nil }
        let id = call["id"]?.stringValue ?? ToolCall.newID()
        if let signature = part["thoughtSignature"], !signature.isNull {
            memory.remember(ConversationMemory.geminiSignatureKey(id), signature)
        }
        return ToolCall(id: id, name: call["name"]?.stringValue ?? "", arguments: (call["args"] ?? [:]).serialized())
    }

    static func finishReason(_ reason: String?, hasCalls: Bool) -> String {
        if hasCalls { return "tool_calls" }
        switch reason {
        case "MAX_TOKENS": return "length"
        case "SAFETY", "RECITATION", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY": return "content_filter"
        default: return "stop"
        }
    }

    static func usage(_ u: JSONValue?) -> TokenUsage {
        let thoughts = u?["thoughtsTokenCount"]?.tokenCount ?? 0
        return TokenUsage(
            promptTokens: u?["promptTokenCount"]?.tokenCount ?? 0,
            completionTokens: (u?["candidatesTokenCount"]?.tokenCount ?? 0) + thoughts,
            cacheReadTokens: u?["cachedContentTokenCount"]?.tokenCount ?? 0, reasoningTokens: thoughts)
    }

    func stream(_ request: ChatRequest, deployment: Deployment, timeout: Double) async throws -> ChatEventStream {
        let response = try await http.post(url: url(deployment, stream: true), headers: headers(deployment), body: body(request), timeout: timeout)
        return ChatEventStream(response: response, decoder: Decoder(adapter: self))
    }

    /// Each `data:` is a whole GenerateContentResponse with only the new parts; there is no end
    /// sentinel, so a stream that ends without a finishReason broke off.
    struct Decoder: StreamDecoder {
        let adapter: GeminiAdapter
        var sse = SSEParser()
        var usage: TokenUsage?
        var finishReason: String?
        var callCount = 0

        mutating func decode(line: [UInt8]) throws -> [ChatEvent] {
            guard let event = sse.feed(line: line) else { return [] }
            return try handle(event)
        }

        mutating func handle(_ event: SSEParser.Event) throws -> [ChatEvent] {
            guard let json = try? JSONValue.parse(event.data) else { throw UpstreamError.protocolError("unreadable stream chunk") }
            if let error = json["error"], !error.isNull {
                throw UpstreamError.status(error["code"]?.intValue ?? 500, retryAfter: nil, message: error["message"]?.stringValue ?? "error in stream")
            }
            var events: [ChatEvent] = []
            if let candidate = json["candidates"]?.arrayValue?.first {
                for part in candidate["content"]?["parts"]?.arrayValue ?? [] {
                    if part["thought"]?.boolValue == true { continue }
                    if let t = part["text"]?.stringValue, !t.isEmpty { events.append(.text(t)) }
                    if let call = adapter.toolCall(part) {
                        events.append(.toolCallStart(index: callCount, id: call.id, name: call.name))
                        events.append(.toolCallArguments(index: callCount, fragment: call.arguments))
                        callCount += 1
                    }
                }
                if let r = candidate["finishReason"]?.stringValue { finishReason = r }
            }
            if let u = json["usageMetadata"], case .object = u { usage = GeminiAdapter.usage(u) }
            return events
        }

        mutating func finish() throws -> [ChatEvent] {
            var tail = try sse.finish().map { try handle($0) } ?? []
            guard let finishReason else { throw UpstreamError.connection("stream ended without a finishReason") }
            tail.append(.finish(reason: GeminiAdapter.finishReason(finishReason, hasCalls: callCount > 0)))
            if let usage { tail.append(.usage(usage)) }
            return tail
        }
    }
}

extension GeminiAdapter: EmbeddingsAdapter {
    /// `batchEmbedContents`, one request per input.
    func embed(_ inputs: [String], dimensions: Int?, deployment: Deployment, timeout: Double) async throws -> EmbeddingsResult {
        let requests: [JSONValue] = inputs.map { text in
            var r: JSONValue = ["model": .string("models/" + deployment.model), "content": ["parts": [["text": .string(text)]]]]
            if let dimensions { r["outputDimensionality"] = .int(dimensions) }
            return r
        }
        let response = try await http.post(url: deployment.apiBase + "/models/" + deployment.model + ":batchEmbedContents", headers: headers(deployment),
                                           body: ["requests": .array(requests)], timeout: timeout)
        let json = try await UpstreamHTTP.readBody(response)
        let vectors = (json["embeddings"]?.arrayValue ?? []).map { $0["values"] ?? [] }
        // Gemini reports no token count for embeddings: estimate.
        return EmbeddingsResult(vectors: vectors, promptTokens: inputs.reduce(0) { $0 + $1.utf8.count / 4 + 1 })
    }
}
