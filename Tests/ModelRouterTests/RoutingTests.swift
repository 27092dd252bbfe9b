import Foundation
import HTTPTypes
import Logging
import Testing
import ServiceKit

@testable import ModelRouter

private let yaml = """
    model_list:
      - model_name: claude-sonnet
        litellm_params: {model: anthropic/claude-sonnet-4-5, api_key: os.environ/ANTHROPIC_API_KEY}
      - model_name: claude-haiku
        litellm_params: {model: anthropic/claude-haiku-4-5, api_key: os.environ/ANTHROPIC_API_KEY}
      - model_name: gemini-flash
        litellm_params: {model: gemini/gemini-2.5-flash, api_key: os.environ/GEMINI_API_KEY}
        model_info: {input_cost_per_million: 0.3}
      - model_name: local
        litellm_params: {model: ollama_chat/llama3.2, api_base: "http://ollama:11434/"}
    aliases: {smart: claude-sonnet}
    litellm_settings:
      fallbacks: [{claude-sonnet: [gemini-flash]}]
    router_settings: {num_retries: 2, cooldown_time: 10}
    """

private func chat(_ text: String, model: String = "auto") throws -> ChatRequest {
    try ChatRequest(body: ["model": .string(model), "messages": [["role": "user", "content": .string(text)]]])
}

@Suite struct RouterConfigTests {
    @Test func parsesLiteLLMShape() throws {
        let config = try RouterConfig.parse(yaml: yaml, environment: ["ANTHROPIC_API_KEY": "sk-ant-x"])
        #expect(config.modelNames == ["claude-sonnet", "claude-haiku", "gemini-flash", "local"])
        let sonnet = config.deployments(named: "claude-sonnet")[0]
        #expect(sonnet.provider == .anthropic && sonnet.model == "claude-sonnet-4-5" && sonnet.apiKey == "sk-ant-x")
        #expect(config.deployments(named: "gemini-flash")[0].apiKey == nil)
        #expect(config.deployments(named: "gemini-flash")[0].inputCost == 0.3e-6)
        let local = config.deployments(named: "local")[0]
        #expect(local.provider == .ollama && local.isLocal && local.apiBase == "http://ollama:11434")
        #expect(config.fallbacks["claude-sonnet"] == ["gemini-flash"] && config.numRetries == 2 && config.cooldownSeconds == 10)
    }

    @Test func brokenConfigsSayWhatIsWrong() throws {
        #expect(throws: RouterConfig.ConfigError.self) { try RouterConfig.parse(yaml: "model_list: []", environment: [:]) }
        #expect(throws: RouterConfig.ConfigError.self) { try RouterConfig.parse(yaml: "model_list:\n  - model_name: x\n    litellm_params: {model: gpt}", environment: [:]) }
        #expect(throws: RouterConfig.ConfigError.self) { try RouterConfig.parse(yaml: yaml + "\naliases: {x: nope}", environment: [:]) }
        #expect(throws: RouterConfig.ConfigError.self) { try RouterConfig.parse(yaml: "[: not yaml", environment: [:]) }
        // Numbers that would trap as `Int`s or timers (an edit saying rpm: 1e30 crashed the router).
        let entry = "model_list:\n  - model_name: x\n    litellm_params: {model: openai/gpt, "
        for bad in ["rpm: 1e30}", "tpm: -1}", "rpm: 2.5}", "context_window: 1e30}"] {
            #expect(throws: RouterConfig.ConfigError.self) { try RouterConfig.parse(yaml: entry + bad, environment: [:]) }
        }
        for setting in ["timeout", "cooldown_time", "num_retries", "cache_max_entries", "allowed_fails"] {
            #expect(throws: RouterConfig.ConfigError.self) { try RouterConfig.parse(yaml: entry + "}\nrouter_settings: {\(setting): 1e30}", environment: [:]) }
            #expect(throws: Never.self) { try RouterConfig.parse(yaml: entry + "}\nrouter_settings: {\(setting): 30}", environment: [:]) }
        }
        #expect(throws: RouterConfig.ConfigError.self) {
            try RouterConfig.parse(yaml: yaml + "\nauto: {rules: [{when: {min_context_tokens: 1e30}, model: local}]}", environment: [:])
        }
        #expect(try RouterConfig.parse(yaml: entry + "rpm: 60, tpm: 100000}", environment: [:]).deployments(named: "x").first?.rpm == 60)
    }
}

@Suite struct RoutingEngineTests {
    let config = try! RouterConfig.parse(yaml: yaml, environment: [:])
    let engine = RoutingEngine(logger: Logger(label: "test"))

    @Test(arguments: [
        ("Write a python function to sort a list", "claude-sonnet"),
        ("Summarize this article for me", "gemini-flash"),
        ("Classify the sentiment: I love it", "claude-haiku"),
        ("What time is it in Tokyo?", "local"),
    ])
    func autoRules(text: String, expected: String) throws {
        #expect(try engine.decide(chat(text), config: config, budgetExceeded: false).target == expected)
    }

    @Test func longContextGoesToGemini() throws {
        let decision = try engine.decide(chat("Write code " + String(repeating: "x ", count: 250_000)), config: config, budgetExceeded: false)
        #expect(decision.target == "gemini-flash" && decision.reason.hasPrefix("task=code ctx="))
    }

    @Test func aliasAndFallbackChain() throws {
        let decision = try engine.decide(chat("hi", model: "smart"), config: config, budgetExceeded: false)
        #expect(decision.reason == "alias smart -> claude-sonnet")
        #expect(decision.candidates.map(\.name) == ["claude-sonnet", "gemini-flash"])
    }

    @Test func onlyAnUpstreams4xxPassesThroughAsIs() {
        #expect(RouterError.fromUpstream(.status(422, retryAfter: nil, message: "bad")).status.code == 422)
        // A code from a stream's error event can be anything; it must not reach HTTPResponse.Status.
        for odd in [-5, 0, 42, 5000] { #expect(RouterError.fromUpstream(.status(odd, retryAfter: nil, message: "odd")).status.code == 502) }
    }

    @Test func unknownModelIs404() {
        #expect { try engine.decide(chat("hi", model: "nope"), config: config, budgetExceeded: false) } throws: { ($0 as? RouterError)?.status.code == 404 }
    }

    @Test func privateDataPinsWholeConversationToLocal() throws {
        let first = try engine.decide(chat("my key is sk-abcdefghijklmnopqrstuvwxyz", model: "claude-sonnet"), config: config, budgetExceeded: false)
        #expect(first.target == "local" && first.pinnedLocal && first.candidates.allSatisfy(\.isLocal))
        let later = try ChatRequest(body: ["model": "claude-sonnet", "messages": [
            ["role": "user", "content": "my key is sk-abcdefghijklmnopqrstuvwxyz"], ["role": "assistant", "content": "ok"], ["role": "user", "content": "thanks"]]])
        #expect(try engine.decide(later, config: config, budgetExceeded: false).target == "local")
    }

    @Test func budgetDegradesCloudToLocal() throws {
        let decision = try engine.decide(chat("hi", model: "claude-sonnet"), config: config, budgetExceeded: true)
        #expect(decision.target == "local" && decision.budgetDegraded && decision.reason.contains("budget=exceeded"))
    }

    @Test func openWebUIBackgroundTaskGoesLocal() throws {
        let decision = try engine.decide(chat("### Task:\nGenerate 1-3 broad tags categorizing the main themes", model: "claude-sonnet"), config: config, budgetExceeded: false)
        #expect(decision.target == "local" && decision.reason == "background=tags -> local")
    }
}

@Suite struct PrivateDataTests {
    @Test(arguments: [
        ("mail me at jane.doe@example.org", "email"),
        ("card 4111 1111 1111 1111", "card_number"),
        ("IBAN DE89 3704 0044 0532 0130 00", "iban"),
        ("call +49 170 1234567", "phone"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "private_key"),
        ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "api_key"),
        ("aws AKIAIOSFODNN7EXAMPLE here", "api_key"),
        ("password: hunter2hunter2", "bearer_token"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt"),
        ("call +٤٩ ١٧٠ ١٢٣٤٥٦٧ please", "phone"),
    ])
    func detects(text: String, kind: String) throws {
        #expect(RequestClassifier.privateData(in: try chat(text)).contains(kind))
    }

    /// Skipping a pattern the text cannot match (no `@`, too few digits, no key prefix) never
    /// changes the answer: every regular expression run on the same texts finds the same kinds.
    @Test func skippingImpossiblePatternsChangesNothing() {
        let texts = [
            "", "Hello there, how are you today?", "mail me at jane.doe@example.org", "a@b", "x@y.z", "user@host.co and 4111 1111 1111 1111",
            "card 4111-1111-1111-1111", "IBAN DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "call +49 170 1234567", "call 030 1234 5678",
            "+٤٩ ١٧٠ ١٢٣٤٥٦٧", "12345678", "123456789", "-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN PUBLIC KEY-----",
            "sk-ant-abcdefghijklmnop1234", "AIzaSyA-abcdefghijklmnopqrstuvwxyz123456", "glpat-abcdefghijklmnopqrst", "xoxb-1234567890-abc",
            "github_pat_abcdefghijklmnopqrstuvwxyz0123456789", "Bearer = abcdefghijkl", "secret:abcdefgh", "token abcdefgh",
            "eyJabcdefghijk.abcdefghijk.abcdefghijk", "Explain how TCP slow start works in 2024, version 3.14", "日本語のテキスト 090-1234-5678",
        ]
        for text in texts {
            #expect(RequestClassifier.privateData(inText: text) == RequestClassifier.privateData(inText: text, skipImpossible: false), "\(text)")
        }
    }

    @Test func literalSearchFindsEveryPositionAndNoPartialMatch() {
        for (text, literal, expected) in [("eyJ", "eyJ", true), ("xxeyJ", "eyJ", true), ("eyJxx", "eyJ", true), ("xeyxeyJx", "eyJ", true),
                                          ("xxey", "eyJ", false), ("", "eyJ", false), ("ey", "eyJ", false), ("ä sk-", "sk-", true)] {
            #expect(RequestClassifier.TextTraits(text).contains(literal) == expected, "\(text) / \(literal)")
        }
    }

    @Test func ordinaryTextIsNotPrivate() throws {
        #expect(RequestClassifier.privateData(in: try chat("Explain how TCP slow start works in 2024, version 3.14")).isEmpty)
        #expect(!RequestClassifier.luhn("4111111111111112"))
    }
}

@Suite struct CacheTests {
    @Test func onlyDeterministicRequestsAreCached() {
        #expect(CacheKey.make(target: "m", body: ["temperature": 0, "messages": []]) != nil)
        #expect(CacheKey.make(target: "m", body: ["temperature": 0.7, "messages": []]) == nil)
        #expect(CacheKey.make(target: "m", body: ["temperature": 0, "stream": true]) == nil)
        #expect(CacheKey.make(target: "m", body: ["temperature": 0, "a": 1]) == CacheKey.make(target: "m", body: ["a": 1, "temperature": 0]))
    }

    @Test func inMemoryCacheEvictsOldestAndExpires() async throws {
        let cache = InMemoryResponseCache(maxEntries: 2)
        await cache.set("a", "1", ttl: 60)
        await cache.set("b", "2", ttl: 60)
        await cache.set("c", "3", ttl: 0)
        #expect(await cache.get("a") == nil)
        #expect(await cache.get("b") == "2")
        try await Task.sleep(for: .milliseconds(5))
        #expect(await cache.get("c") == nil)
    }
}
