import Foundation
import ServiceKit

/// An inbound OpenAI chat-completions request, validated; the raw body is kept so adapters can
/// read every field the client sent.
public struct ChatRequest: Sendable {
    public var body: JSONValue
    public var model: String
    public var messages: [JSONValue]
    public var stream: Bool
    public var includeUsage: Bool

    /// Checks the shape OpenAI documents and answers what is wrong in OpenAI's words.
    public init(body: JSONValue) throws(RouterError) {
        guard case .object = body else { throw .invalidRequest("request body must be a JSON object") }
        guard let model = body["model"] else { throw .invalidRequest("missing required parameter: 'model'", param: "model") }
        guard let modelName = model.stringValue, !modelName.isEmpty else { throw .invalidRequest("'model' must be a non-empty string", param: "model") }
        guard let messagesValue = body["messages"] else { throw .invalidRequest("missing required parameter: 'messages'", param: "messages") }
        guard let messages = messagesValue.arrayValue else { throw .invalidRequest("'messages' must be an array", param: "messages") }
        guard !messages.isEmpty else { throw .invalidRequest("'messages' must contain at least one message", param: "messages") }
        for (index, message) in messages.enumerated() {
            guard case .object = message else { throw .invalidRequest("messages[\(index)] must be an object", param: "messages[\(index)]") }
            guard let role = message["role"]?.stringValue,
                ["system", "developer", "user", "assistant", "tool", "function"].contains(role)
            else { throw .invalidRequest("messages[\(index)].role must be one of system, developer, user, assistant, tool", param: "messages[\(index)].role") }
            if let content = message["content"], !content.isNull, content.stringValue == nil, content.arrayValue == nil {
                throw .invalidRequest("messages[\(index)].content must be a string or an array of parts", param: "messages[\(index)].content")
            }
            if role == "tool", message["tool_call_id"]?.stringValue == nil {
                throw .invalidRequest("messages[\(index)].tool_call_id is required for tool messages", param: "messages[\(index)].tool_call_id")
            }
        }
        if let stream = body["stream"], !stream.isNull, stream.boolValue == nil { throw .invalidRequest("'stream' must be a boolean", param: "stream") }
        if let t = body["temperature"], !t.isNull {
            guard let v = t.doubleValue, (0...2).contains(v) else { throw .invalidRequest("'temperature' must be a number between 0 and 2", param: "temperature") }
        }
        for (key, range) in Self.wholeNumberParameters {
            if let v = body[key], !v.isNull { _ = try Self.wholeNumber(v, key, in: range) }
        }
        if let tools = body["tools"], !tools.isNull {
            guard let list = tools.arrayValue else { throw .invalidRequest("'tools' must be an array", param: "tools") }
            for (i, tool) in list.enumerated() where tool["function"]?["name"]?.stringValue == nil {
                throw .invalidRequest("tools[\(i)].function.name is required", param: "tools[\(i)]")
            }
        }
        self.body = body
        self.model = modelName
        self.messages = messages
        self.stream = body["stream"]?.boolValue ?? false
        self.includeUsage = body["stream_options"]?["include_usage"]?.boolValue ?? false
    }

    /// The whole-number parameters and their ranges. Checked, not just read: `1e30` or `2.5` would
    /// reach the router's own arithmetic (context sizing, the cache key) or mean nothing upstream.
    static let wholeNumberParameters: [(String, ClosedRange<Int>)] = [
        ("max_tokens", 1...10_000_000), ("max_completion_tokens", 1...10_000_000), ("n", 1...128), ("seed", Int.min...Int.max),
    ]

    /// `value` as a whole number in `range`, or the 400 that names `param`.
    static func wholeNumber(_ value: JSONValue, _ param: String, in range: ClosedRange<Int>) throws(RouterError) -> Int {
        guard let number = value.doubleValue, let whole = Int(exactly: number), range.contains(whole) else {
            let bounds = range == Int.min...Int.max ? "" : " from \(range.lowerBound) to \(range.upperBound)"
            throw .invalidRequest("'\(param)' must be a whole number\(bounds)", param: param)
        }
        return whole
    }

    public var tools: [JSONValue] { body["tools"]?.arrayValue ?? [] }
    public var temperature: Double? { body["temperature"]?.doubleValue }
    public var maxTokens: Int? { (body["max_completion_tokens"] ?? body["max_tokens"])?.intValue }

    /// The text of a message's content (string, or the text parts joined).
    public static func text(of message: JSONValue) -> String {
        if let s = message["content"]?.stringValue { return s }
        guard let parts = message["content"]?.arrayValue else { return "" }
        return parts.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }.joined(separator: "\n")
    }

    public var lastUserText: String {
        messages.last(where: { $0["role"]?.stringValue == "user" }).map(Self.text(of:)) ?? ""
    }

    public var allText: String { messages.map(Self.text(of:)).joined(separator: "\n") }

    /// Rough prompt size in tokens (4 characters a token), enough for routing and the stream
    /// backstop count; providers' own counts replace it whenever they send one.
    public var estimatedPromptTokens: Int {
        var chars = 0
        for m in messages {
            chars += Self.text(of: m).utf8.count + 16
            if let calls = m["tool_calls"] { chars += calls.serialized().utf8.count }
        }
        for t in tools { chars += t.serialized().utf8.count }
        return chars / 4 + 1
    }

    public var hasImages: Bool {
        messages.contains { m in m["content"]?.arrayValue?.contains { $0["type"]?.stringValue == "image_url" } ?? false }
    }
}

/// Token counts by kind, OpenAI's meaning: `promptTokens` includes cache reads and writes.
extension JSONValue {
    /// A token count from a provider's answer: a whole number from 0 to 2^40, else absent. Why
    /// bounded: usage is summed and priced, and an upstream's `1e20` once crashed the router.
    var tokenCount: Int? { intValue.flatMap { (0...(1 << 40)).contains($0) ? $0 : nil } }
}

public struct TokenUsage: Sendable, Equatable, Codable {
    public var promptTokens = 0
    public var completionTokens = 0
    public var cacheReadTokens = 0
    public var cacheWriteTokens = 0
    public var reasoningTokens = 0
    /// True when the router counted (the provider sent no usage).
    public var estimated = false

    public init(promptTokens: Int = 0, completionTokens: Int = 0, cacheReadTokens: Int = 0, cacheWriteTokens: Int = 0, reasoningTokens: Int = 0, estimated: Bool = false) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cacheReadTokens = cacheReadTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.reasoningTokens = reasoningTokens
        self.estimated = estimated
    }

    public var openAI: JSONValue {
        [
            "prompt_tokens": .int(promptTokens), "completion_tokens": .int(completionTokens),
            "total_tokens": .int(promptTokens + completionTokens),
            "prompt_tokens_details": ["cached_tokens": .int(cacheReadTokens)],
            "completion_tokens_details": ["reasoning_tokens": .int(reasoningTokens)],
        ]
    }
}

/// One tool call the model made, OpenAI's shape (arguments as a JSON string).
public struct ToolCall: Sendable, Equatable {
    public var id: String
    public var name: String
    public var arguments: String

    public var openAI: JSONValue {
        ["id": .string(id), "type": "function", "function": ["name": .string(name), "arguments": .string(arguments)]]
    }

    public static func newID() -> String {
        "call_" + UUID.hexDigits().prefix(24)
    }
}

extension UUID {
    /// A UUID (a new random one by default) as 32 lowercase hex digits (what `uuidString` without
    /// its dashes, lowercased, reads), written from its bytes: Foundation's `replacingOccurrences`
    /// for the dashes was 4 % of the router's CPU per request (perf).
    static func hexDigits(of uuid: UUID = UUID()) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return withUnsafeBytes(of: uuid.uuid) { bytes in
            String(unsafeUninitializedCapacity: 32) { text in
                for (index, byte) in bytes.enumerated() {
                    text[2 * index] = digits[Int(byte >> 4)]
                    text[2 * index + 1] = digits[Int(byte & 0x0F)]
                }
                return 32
            }
        }
    }
}

/// A whole (non-streaming) answer from any provider.
public struct ChatResult: Sendable {
    public var content: String
    public var toolCalls: [ToolCall]
    public var finishReason: String
    public var usage: TokenUsage
    public var providerModel: String
}

/// One step of a streamed answer from any provider, already in OpenAI's terms.
public enum ChatEvent: Sendable, Equatable {
    case text(String)
    /// The start of a tool call (index as OpenAI numbers them).
    case toolCallStart(index: Int, id: String, name: String)
    case toolCallArguments(index: Int, fragment: String)
    case finish(reason: String)
    case usage(TokenUsage)

    /// Content the client sees: until one arrives the router may still fall back.
    public var isContent: Bool {
        switch self {
        case .text(let t): !t.isEmpty
        case .toolCallStart, .toolCallArguments: true
        default: false
        }
    }
}
