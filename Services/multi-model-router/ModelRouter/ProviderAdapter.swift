import Synchronization
import AsyncHTTPClient
import Foundation
import Logging
import ServiceKit

/// One provider's native API behind the router's OpenAI-shaped contract. A non-streamed answer is
/// a request built here, one exchange, and the answer read here: the pipeline lane (`ChatLane`)
/// makes the exchange from the event loop, everything else through `complete`.
protocol ProviderAdapter: Sendable {
    var http: UpstreamHTTP { get }
    /// The provider request for a non-streamed answer.
    func completionRequest(_ request: ChatRequest, deployment: Deployment) async throws -> CompletionRequest
    /// The same without waiting; nil when it needs a lookup first (Ollama's model context).
    func readyCompletionRequest(_ request: ChatRequest, deployment: Deployment) -> CompletionRequest?
    /// Reads the provider's 2xx answer to `call`.
    func completionResult(_ json: JSONValue, of call: CompletionRequest, request: ChatRequest, deployment: Deployment) throws -> ChatResult
    /// Returns once the provider answered 2xx; the events follow.
    func stream(_ request: ChatRequest, deployment: Deployment, timeout: Double) async throws -> ChatEventStream
}

extension ProviderAdapter {
    func complete(_ request: ChatRequest, deployment: Deployment, timeout: Double) async throws -> ChatResult {
        let call = try await completionRequest(request, deployment: deployment)
        let response = try await http.post(url: call.url, headers: call.headers, body: call.body, timeout: timeout)
        return try completionResult(try await UpstreamHTTP.readBody(response), of: call, request: request, deployment: deployment)
    }
}

/// An adapter whose provider request needs no lookup (all but Ollama's): its one synchronous
/// builder serves the route and the lane.
protocol LookupFreeAdapter: ProviderAdapter {
    func completionRequest(_ request: ChatRequest, deployment: Deployment) -> CompletionRequest
}

extension LookupFreeAdapter {
    func readyCompletionRequest(_ request: ChatRequest, deployment: Deployment) -> CompletionRequest? {
        completionRequest(request, deployment: deployment)
    }
}

/// A provider request for a non-streamed answer.
struct CompletionRequest: Sendable {
    var url: String
    var headers: [(String, String)]
    var body: JSONValue
    /// Ollama's `num_ctx`, to tell a truncated prompt.
    var contextTokens: Int? = nil
}

/// The adapter for each provider kind, sharing one HTTP client and one conversation memory.
struct ProviderAdapters: Sendable {
    let openai: OpenAIAdapter
    let anthropic: AnthropicAdapter
    let gemini: GeminiAdapter
    let ollama: OllamaAdapter

    init(client: HTTPClient, memory: ConversationMemory, logger: Logger) {
        let http = UpstreamHTTP(client: client)
        openai = OpenAIAdapter(http: http)
        anthropic = AnthropicAdapter(http: http, memory: memory)
        gemini = GeminiAdapter(http: http, memory: memory)
        ollama = OllamaAdapter(http: http, logger: logger)
    }

    func adapter(for kind: ProviderKind) -> any ProviderAdapter {
        switch kind {
        case .openai: openai
        case .anthropic: anthropic
        case .gemini: gemini
        case .ollama: ollama
        }
    }
}

/// Helpers the adapters share for reading OpenAI request parts.
enum OpenAIParts {
    /// `data:<mime>;base64,<data>` split into its parts.
    static func dataURL(_ url: String) -> (mime: String, data: String)? {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") else { return nil }
        let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
        guard header.hasSuffix(";base64") else { return nil }
        return (String(header.dropLast(7)), String(url[url.index(after: comma)...]))
    }

    /// Tool-call arguments (a JSON string) as an object; malformed text is kept under `_raw`.
    static func arguments(_ text: String?) -> JSONValue {
        guard let text, !text.isEmpty else { return [:] }
        if let v = try? JSONValue.parse(text), case .object = v { return v }
        return ["_raw": .string(text)]
    }

    /// The name of the function a tool result answers, found in the earlier assistant turn.
    static func toolName(for callID: String, in messages: [JSONValue]) -> String? {
        for m in messages.reversed() {
            for call in m["tool_calls"]?.arrayValue ?? [] where call["id"]?.stringValue == callID {
                return call["function"]?["name"]?.stringValue
            }
        }
        return nil
    }

    static func systemText(_ messages: [JSONValue]) -> String? {
        let parts = messages.filter { ["system", "developer"].contains($0["role"]?.stringValue ?? "") }.map(ChatRequest.text(of:))
        return parts.isEmpty ? nil : parts.joined(separator: "\n\n")
    }

    static func stopList(_ body: JSONValue) -> [JSONValue]? {
        if let s = body["stop"]?.stringValue { return [.string(s)] }
        return body["stop"]?.arrayValue
    }
}

/// What the router must remember between turns because an OpenAI client drops it: Gemini's
/// thought signatures and Anthropic's thinking blocks, keyed by tool-call id. Bounded: the
/// oldest entries go first.
public final class ConversationMemory: Sendable {
    private struct Store {
        var values: [String: JSONValue] = [:]
        var order: [String] = []
    }
    private let store = Mutex(Store())
    private let limit: Int

    public init(limit: Int = 50_000) { self.limit = limit }

    public func remember(_ key: String, _ value: JSONValue) {
        store.withLock { s in
            if s.values.updateValue(value, forKey: key) == nil { s.order.append(key) }
            if s.order.count > limit {
                let drop = s.order.count - limit
                for k in s.order.prefix(drop) { s.values[k] = nil }
                s.order.removeFirst(drop)
            }
        }
    }

    public func recall(_ key: String) -> JSONValue? { store.withLock { $0.values[key] } }

    static func geminiSignatureKey(_ callID: String) -> String { "gemini-sig:" + callID }
    static func anthropicThinkingKey(_ toolUseID: String) -> String { "anthropic-thinking:" + toolUseID }
}
