import Foundation
import Logging
import Synchronization
import ServiceKit

/// Ollama's native `/api/chat`: NDJSON streaming, and `options.num_ctx` sized to the prompt so
/// nothing is silently cut (the OpenAI-compatible endpoint cannot set it).
struct OllamaAdapter: ProviderAdapter {
    let http: UpstreamHTTP
    let logger: Logger
    /// Context length per model from `/api/show`, so it is asked once.
    let contextLengths = ContextLengths()

    final class ContextLengths: Sendable {
        let values = Mutex<[String: Int]>([:])
    }

    static let buckets = [4096, 8192, 16384, 32768, 65536, 131072]
    static let defaultOutputTokens = 1024

    /// The smallest bucket that holds prompt plus answer, capped by what the model supports.
    static func numCtx(promptTokens: Int, maxOutput: Int?, modelContext: Int?) -> Int {
        let need = promptTokens + (maxOutput ?? defaultOutputTokens)
        let bucket = buckets.first { $0 >= need } ?? buckets.last!
        if let modelContext, modelContext > 0 { return min(bucket, modelContext) }
        return bucket
    }

    /// The model's context length if `/api/show` has told it already.
    func knownModelContext(_ deployment: Deployment) -> Int? {
        contextLengths.values.withLock { $0[deployment.apiBase + "|" + deployment.model] }
    }

    func modelContext(_ deployment: Deployment) async -> Int? {
        let key = deployment.apiBase + "|" + deployment.model
        if let known = knownModelContext(deployment) { return known }
        guard let response = try? await http.post(url: deployment.apiBase + "/api/show", headers: [], body: ["model": .string(deployment.model)], timeout: 5),
            let json = try? await UpstreamHTTP.readBody(response, limit: 4 << 20)
        else { return deployment.contextWindow }
        let found = json["model_info"]?.objectValue?.first { $0.key.hasSuffix(".context_length") }?.value.intValue ?? deployment.contextWindow
        if let found { contextLengths.values.withLock { $0[key] = found } }
        return found
    }

    // MARK: - Request

    func body(_ request: ChatRequest, deployment: Deployment, stream: Bool) async -> (JSONValue, numCtx: Int) {
        body(request, deployment: deployment, stream: stream, modelContext: await modelContext(deployment))
    }

    func body(_ request: ChatRequest, deployment: Deployment, stream: Bool, modelContext: Int?) -> (JSONValue, numCtx: Int) {
        let numCtx = Self.numCtx(promptTokens: request.estimatedPromptTokens, maxOutput: request.maxTokens, modelContext: modelContext)
        var options: [String: JSONValue] = ["num_ctx": .int(numCtx)]
        if let t = request.temperature { options["temperature"] = .number(t) }
        if let p = request.body["top_p"]?.doubleValue { options["top_p"] = .number(p) }
        if let m = request.maxTokens { options["num_predict"] = .int(m) }
        if let s = request.body["seed"]?.intValue { options["seed"] = .int(s) }
        if let stops = OpenAIParts.stopList(request.body) { options["stop"] = .array(stops) }
        var body: JSONValue = ["model": .string(deployment.model), "messages": .array(messages(request.messages)), "stream": .bool(stream), "options": .object(options)]
        if !request.tools.isEmpty { body["tools"] = .array(request.tools) }
        switch request.body["response_format"]?["type"]?.stringValue {
        case "json_object": body["format"] = "json"
        case "json_schema": body["format"] = request.body["response_format"]?["json_schema"]?["schema"] ?? "json"
        default: break
        }
        return (body, numCtx)
    }

    /// Ollama takes images only inline (base64); a linked one would be dropped and the model
    /// would answer without it, so the client hears why instead. (The router does not fetch the
    /// link itself: a server fetching URLs a client names is a way into the home network.)
    static func requireInlineImages(_ request: ChatRequest) throws {
        guard let url = linkedImage(in: request.messages) else { return }
        throw RouterError.invalidRequest(
            "Ollama takes images only as data: URLs (data:image/png;base64,...); '\(url.prefix(80))' is a link", param: "messages")
    }

    /// The first `image_url` part that is not a `data:` URL.
    static func linkedImage(in messages: [JSONValue]) -> String? {
        for message in messages {
            for part in message["content"]?.arrayValue ?? [] where part["type"]?.stringValue == "image_url" {
                let url = part["image_url"]?["url"]?.stringValue ?? ""
                if OpenAIParts.dataURL(url) == nil { return url }
            }
        }
        return nil
    }

    func messages(_ input: [JSONValue]) -> [JSONValue] {
        input.map { m in
            let role = m["role"]?.stringValue ?? "user"
            var out: JSONValue = ["role": .string(role == "developer" ? "system" : role), "content": .string(ChatRequest.text(of: m))]
            let images = (m["content"]?.arrayValue ?? []).compactMap { p -> JSONValue? in
                guard p["type"]?.stringValue == "image_url", let d = OpenAIParts.dataURL(p["image_url"]?["url"]?.stringValue ?? "") else { return nil }
                return .string(d.data)
            }
            if !images.isEmpty { out["images"] = .array(images) }
            if let calls = m["tool_calls"]?.arrayValue {
                out["tool_calls"] = .array(calls.map { ["function": ["name": $0["function"]?["name"] ?? "", "arguments": OpenAIParts.arguments($0["function"]?["arguments"]?.stringValue)]] })
            }
            if role == "tool", let id = m["tool_call_id"]?.stringValue, let name = OpenAIParts.toolName(for: id, in: input) {
                out["tool_name"] = .string(name)
            }
            return out
        }
    }

    // MARK: - Response

    func completionRequest(_ request: ChatRequest, deployment: Deployment) async throws -> CompletionRequest {
        try Self.requireInlineImages(request)
        let (body, numCtx) = await body(request, deployment: deployment, stream: false)
        return CompletionRequest(url: deployment.apiBase + "/api/chat", headers: [], body: body, contextTokens: numCtx)
    }

    /// Nil until `/api/show` has told the model's context length (the first call asks it).
    func readyCompletionRequest(_ request: ChatRequest, deployment: Deployment) -> CompletionRequest? {
        // A linked image takes the normal path, which answers it with its 400.
        guard let modelContext = knownModelContext(deployment), Self.linkedImage(in: request.messages) == nil else { return nil }
        let (body, numCtx) = body(request, deployment: deployment, stream: false, modelContext: modelContext)
        return CompletionRequest(url: deployment.apiBase + "/api/chat", headers: [], body: body, contextTokens: numCtx)
    }

    func completionResult(_ json: JSONValue, of call: CompletionRequest, request: ChatRequest, deployment: Deployment) throws -> ChatResult {
        let calls = Self.toolCalls(json["message"])
        let usage = Self.usage(json)
        if let numCtx = call.contextTokens { checkTruncation(usage: usage, numCtx: numCtx, request: request, deployment: deployment) }
        return ChatResult(content: json["message"]?["content"]?.stringValue ?? "", toolCalls: calls,
                          finishReason: calls.isEmpty ? (json["done_reason"]?.stringValue == "length" ? "length" : "stop") : "tool_calls",
                          usage: usage, providerModel: json["model"]?.stringValue ?? deployment.model)
    }

    static func toolCalls(_ message: JSONValue?) -> [ToolCall] {
        (message?["tool_calls"]?.arrayValue ?? []).map {
            ToolCall(id: $0["id"]?.stringValue ?? ToolCall.newID(), name: $0["function"]?["name"]?.stringValue ?? "",
                     arguments: ($0["function"]?["arguments"] ?? [:]).stringValue ?? ($0["function"]?["arguments"] ?? [:]).serialized())
        }
    }

    static func usage(_ json: JSONValue) -> TokenUsage {
        TokenUsage(promptTokens: json["prompt_eval_count"]?.tokenCount ?? 0, completionTokens: json["eval_count"]?.tokenCount ?? 0)
    }

    /// Ollama cuts an over-long prompt without an error; a prompt count at the window's edge
    /// and well under our estimate is the sign.
    func checkTruncation(usage: TokenUsage, numCtx: Int, request: ChatRequest, deployment: Deployment) {
        let estimate = request.estimatedPromptTokens
        if usage.promptTokens >= numCtx - 8 || (estimate > 2048 && usage.promptTokens < estimate / 2) {
            logger.warning("ollama prompt probably truncated", metadata: ["model": "\(deployment.name)", "num_ctx": "\(numCtx)", "prompt_eval_count": "\(usage.promptTokens)", "estimated_tokens": "\(estimate)"])
        }
    }

    func stream(_ request: ChatRequest, deployment: Deployment, timeout: Double) async throws -> ChatEventStream {
        try Self.requireInlineImages(request)
        let (body, _) = await body(request, deployment: deployment, stream: true)
        let response = try await http.post(url: deployment.apiBase + "/api/chat", headers: [], body: body, timeout: timeout)
        return ChatEventStream(response: response, decoder: Decoder())
    }

    /// NDJSON: one object a line, the last with `done: true` and the counters.
    struct Decoder: StreamDecoder {
        var done = false
        var callCount = 0

        mutating func decode(line: [UInt8]) throws -> [ChatEvent] {
            guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else { return [] }
            guard let json = try? JSONValue.parse(line) else { throw UpstreamError.protocolError("unreadable stream line") }
            if let error = json["error"]?.stringValue { throw UpstreamError.protocolError(error) }
            var events: [ChatEvent] = []
            if let text = json["message"]?["content"]?.stringValue, !text.isEmpty { events.append(.text(text)) }
            for call in OllamaAdapter.toolCalls(json["message"]) {
                events.append(.toolCallStart(index: callCount, id: call.id, name: call.name))
                events.append(.toolCallArguments(index: callCount, fragment: call.arguments))
                callCount += 1
            }
            if json["done"]?.boolValue == true {
                done = true
                let reason = callCount > 0 ? "tool_calls" : (json["done_reason"]?.stringValue == "length" ? "length" : "stop")
                events += [.finish(reason: reason), .usage(OllamaAdapter.usage(json))]
            }
            return events
        }

        mutating func finish() throws -> [ChatEvent] {
            guard done else { throw UpstreamError.connection("stream ended before done:true") }
            return []
        }
    }
}

extension OllamaAdapter: EmbeddingsAdapter {
    /// `/api/embed`.
    func embed(_ inputs: [String], dimensions: Int?, deployment: Deployment, timeout: Double) async throws -> EmbeddingsResult {
        var body: JSONValue = ["model": .string(deployment.model), "input": .array(inputs.map(JSONValue.string))]
        if let dimensions { body["dimensions"] = .int(dimensions) }
        let response = try await http.post(url: deployment.apiBase + "/api/embed", headers: [], body: body, timeout: timeout)
        let json = try await UpstreamHTTP.readBody(response)
        return EmbeddingsResult(vectors: json["embeddings"]?.arrayValue ?? [], promptTokens: json["prompt_eval_count"]?.tokenCount ?? 0)
    }
}
