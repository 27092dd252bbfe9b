import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Testing

@testable import ModelRouter
import ServiceKit

private func request(_ json: String) throws -> ChatRequest {
    try ChatRequest(body: JSONValue.parse(json))
}

private let deployment = Deployment(
    name: "m", provider: .anthropic, model: "claude", apiBase: "http://x", apiKey: "k", apiKeySource: nil, rpm: nil, tpm: nil,
    inputCost: 3e-6, outputCost: 15e-6, cacheReadCost: 0.3e-6, cacheWriteCost: 3.75e-6, contextWindow: nil, isLocal: false)

@Suite struct ChatRequestValidationTests {
    @Test func rejectsMissingAndMistypedFields() throws {
        #expect(throws: RouterError.self) { try request(#"{"model":"m"}"#) }
        #expect(throws: RouterError.self) { try request(#"{"model":"m","messages":[]}"#) }
        #expect(throws: RouterError.self) { try request(#"{"model":"m","messages":"hi"}"#) }
        #expect(throws: RouterError.self) { try request(#"{"model":"m","messages":[{"role":"wizard","content":"x"}]}"#) }
        #expect(throws: RouterError.self) { try request(#"{"model":"m","messages":[{"role":"tool","content":"x"}]}"#) }
        #expect(throws: RouterError.self) { try request(#"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":3}"#) }
        // Whole-number parameters out of range or with a fraction: a 400 naming them, never a trap.
        for (param, value) in [("max_tokens", "1e30"), ("max_tokens", "0"), ("max_completion_tokens", "2.5"), ("n", "1e30"), ("n", "0"), ("seed", "1e30"), ("seed", "\"7\"")] {
            #expect {
                try request(#"{"model":"m","messages":[{"role":"user","content":"x"}],"\#(param)":\#(value)}"#)
            } throws: { ($0 as? RouterError)?.param == param && "\($0)".contains("whole number") }
        }
        #expect(try request(#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":100,"n":1,"seed":-5}"#).maxTokens == 100)
        let ok = try request(#"{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}"#)
        #expect(ok.stream && ok.includeUsage)
    }
}

@Suite struct AnthropicTranslationTests {
    let adapter = AnthropicAdapter(http: UpstreamHTTP(client: .shared), memory: ConversationMemory())

    @Test func systemGoesTopLevelAndToolResultsMerge() throws {
        let chat = try request(#"""
            {"model":"m","temperature":1.8,"messages":[
             {"role":"system","content":"Be brief."},
             {"role":"user","content":"weather?"},
             {"role":"assistant","content":null,"tool_calls":[
               {"id":"a","type":"function","function":{"name":"w","arguments":"{\"city\":\"Paris\"}"}},
               {"id":"b","type":"function","function":{"name":"w","arguments":"{\"city\":\"Rome\"}"}}]},
             {"role":"tool","tool_call_id":"a","content":"sunny"},
             {"role":"tool","tool_call_id":"b","content":"rainy"}]}
            """#)
        let body = adapter.body(chat, deployment: deployment, stream: false)
        #expect(body["system"] == "Be brief.")
        #expect(body["max_tokens"] == 4096)
        #expect(body["temperature"] == 1)
        let messages = try #require(body["messages"]?.arrayValue)
        #expect(messages.map { $0["role"]?.stringValue } == ["user", "assistant", "user"])
        #expect(messages[1]["content"]?.arrayValue?[0]["input"] == ["city": "Paris"])
        #expect(messages[2]["content"]?.arrayValue?.map { $0["tool_use_id"]?.stringValue } == ["a", "b"])
    }

    @Test func thinkingBlocksAreEchoedByToolUseID() throws {
        let memory = ConversationMemory()
        let adapter = AnthropicAdapter(http: UpstreamHTTP(client: .shared), memory: memory)
        adapter.keepThinking([["type": "thinking", "thinking": "hm", "signature": "sig"]], for: ["toolu_1"])
        let chat = try request(#"""
            {"model":"m","messages":[{"role":"user","content":"q"},
             {"role":"assistant","tool_calls":[{"id":"toolu_1","type":"function","function":{"name":"w","arguments":"{}"}}]},
             {"role":"tool","tool_call_id":"toolu_1","content":"r"}]}
            """#)
        let assistant = adapter.body(chat, deployment: deployment, stream: false)["messages"]?.arrayValue?[1]
        #expect(assistant?["content"]?.arrayValue?.first?["signature"] == "sig")
    }

    @Test func absurdUsageFromAProviderReadsAsAbsent() {
        // An upstream's 1e20 once crashed the router; counts beyond 2^40 are not believed.
        let usage = AnthropicAdapter.usage(["input_tokens": 1e20, "cache_read_input_tokens": 9e18, "output_tokens": 7])
        #expect(usage.promptTokens == 0 && usage.completionTokens == 7)
        #expect(OpenAIAdapter.usage(["prompt_tokens": -5, "completion_tokens": .number(.infinity)]) == TokenUsage())
    }

    @Test func usageCountsCacheTokensInPromptAndCostsEachAtItsPrice() {
        let usage = AnthropicAdapter.usage(["input_tokens": 20, "output_tokens": 7, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 10])
        #expect(usage.promptTokens == 130 && usage.cacheReadTokens == 100 && usage.cacheWriteTokens == 10)
        #expect(abs(deployment.cost(of: usage) - (20 * 3e-6 + 7 * 15e-6 + 100 * 0.3e-6 + 10 * 3.75e-6)) < 1e-12)
    }

    @Test func streamDecoderMapsEventsAndRejectsEarlyEnd() throws {
        var decoder = AnthropicAdapter.Decoder(adapter: adapter)
        let lines = [
            "event: message_start", #"data: {"type":"message_start","message":{"usage":{"input_tokens":5}}}"#, "",
            "event: content_block_start", #"data: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t1","name":"w"}}"#, "",
            "event: content_block_delta", #"data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\":1}"}}"#, "",
            "event: message_delta", #"data: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":3}}"#, "",
        ]
        var events: [ChatEvent] = []
        for line in lines { events += try decoder.decode(line: line) }
        #expect(events == [.toolCallStart(index: 0, id: "t1", name: "w"), .toolCallArguments(index: 0, fragment: #"{"a":1}"#)])
        #expect(throws: UpstreamError.self) { try decoder.finish() }
        events = try decoder.decode(line: #"data: {"type":"message_stop"}"#) + decoder.decode(line: "")
        #expect(events == [.finish(reason: "tool_calls"), .usage(TokenUsage(promptTokens: 5, completionTokens: 3))])
        #expect(try decoder.finish().isEmpty)
    }

    @Test func overloadedErrorEventIs529() throws {
        var decoder = AnthropicAdapter.Decoder(adapter: adapter)
        _ = try decoder.decode(line: "event: error")
        _ = try decoder.decode(line: #"data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
        #expect { try decoder.decode(line: "") } throws: { ($0 as? UpstreamError)?.statusCode == 529 }
    }
}

@Suite struct GeminiTranslationTests {
    @Test func signatureStoredByCallIDAndEchoed() throws {
        let memory = ConversationMemory()
        let adapter = GeminiAdapter(http: UpstreamHTTP(client: .shared), memory: memory)
        let call = try #require(adapter.toolCall(["functionCall": ["name": "w", "args": ["city": "Paris"]], "thoughtSignature": "sig-1"]))
        #expect(call.arguments == #"{"city":"Paris"}"#)
        let chat = try request(#"""
            {"model":"m","messages":[{"role":"system","content":"S"},{"role":"user","content":"q"},
             {"role":"assistant","tool_calls":[{"id":"\#(call.id)","type":"function","function":{"name":"w","arguments":"{\"city\":\"Paris\"}"}}]},
             {"role":"tool","tool_call_id":"\#(call.id)","content":"sunny"}],
             "tools":[{"type":"function","function":{"name":"w","parameters":{"type":"object","additionalProperties":false,"properties":{"city":{"type":"string"}}}}}]}
            """#)
        let body = adapter.body(chat)
        let contents = try #require(body["contents"]?.arrayValue)
        #expect(contents.map { $0["role"]?.stringValue } == ["user", "model", "user"])
        #expect(contents[1]["parts"]?.arrayValue?[0]["thoughtSignature"] == "sig-1")
        #expect(contents[2]["parts"]?.arrayValue?[0]["functionResponse"] == ["name": "w", "response": ["result": "sunny"]])
        #expect(body["systemInstruction"] == ["parts": [["text": "S"]]])
        #expect(body["tools"]?.arrayValue?[0]["functionDeclarations"]?.arrayValue?[0]["parameters"]?["additionalProperties"] == nil)
    }

    @Test func streamWithoutFinishReasonBrokeOff() throws {
        var decoder = GeminiAdapter.Decoder(adapter: GeminiAdapter(http: UpstreamHTTP(client: .shared), memory: ConversationMemory()))
        let events = try decoder.decode(line: #"data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]}}]}"#) + decoder.decode(line: "")
        #expect(events == [.text("Hi")])
        #expect(throws: UpstreamError.self) { try decoder.finish() }
    }
}

@Suite struct OllamaTests {
    @Test func numCtxBucketsCappedByModel() {
        #expect(OllamaAdapter.numCtx(promptTokens: 100, maxOutput: nil, modelContext: nil) == 4096)
        #expect(OllamaAdapter.numCtx(promptTokens: 5000, maxOutput: 1000, modelContext: nil) == 8192)
        #expect(OllamaAdapter.numCtx(promptTokens: 50000, maxOutput: nil, modelContext: 32768) == 32768)
    }

    @Test func aLinkedImageIsA400NotSilentlyDropped() throws {
        func chat(_ url: String) throws -> ChatRequest {
            try request(#"{"model":"local","messages":[{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"\#(url)"}}]}]}"#)
        }
        #expect { try OllamaAdapter.requireInlineImages(chat("https://example.com/cat.png")) } throws: {
            ($0 as? RouterError)?.param == "messages" && "\($0)".contains("data: URLs") && "\($0)".contains("https://example.com/cat.png")
        }
        #expect(throws: Never.self) { try OllamaAdapter.requireInlineImages(chat("data:image/png;base64,iVBORw0KGgo=")) }
    }

    @Test func ndjsonDecoder() throws {
        var decoder = OllamaAdapter.Decoder()
        #expect(try decoder.decode(line: #"{"message":{"role":"assistant","content":"Hi"},"done":false}"#) == [.text("Hi")])
        #expect(throws: UpstreamError.self) { var d = decoder; _ = try d.finish() }
        let last = try decoder.decode(line: #"{"message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":12,"eval_count":4}"#)
        #expect(last == [.finish(reason: "stop"), .usage(TokenUsage(promptTokens: 12, completionTokens: 4))])
    }
}

extension StreamDecoder {
    /// The tests write stream lines as text.
    mutating func decode(line: String) throws -> [ChatEvent] { try decode(line: Array(line.utf8)) }
}

@Suite struct SSEParserTests {
    @Test func splitsEventsAcrossChunksAndCRLF() {
        var splitter = LineSplitter()
        var parser = SSEParser()
        var events: [SSEParser.Event] = []
        for chunk in ["event: a\r\nda", "ta: 1\r\n\r\ndata: 2\n", "\n"] {
            for line in splitter.feed(ByteBuffer(string: chunk)) { if let e = parser.feed(line: line) { events.append(e) } }
        }
        #expect(events.map(\.data) == ["1", "2"])
        #expect(events.map(\.event) == ["a", nil])
    }
}
