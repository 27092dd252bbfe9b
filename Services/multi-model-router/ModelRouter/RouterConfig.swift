import Foundation
import Yams
import ServiceKit

/// Which native API a deployment speaks.
public enum ProviderKind: String, Sendable, CaseIterable {
    case openai, anthropic, gemini, ollama
}

/// One upstream model a request can go to (one `model_list` entry).
public struct Deployment: Sendable, Identifiable {
    /// `model_name`: what clients ask for.
    public var name: String
    public var provider: ProviderKind
    /// The provider's own model id.
    public var model: String
    public var apiBase: String
    public var apiKey: String?
    /// Where the key was meant to come from (for errors that must not show the key).
    public var apiKeySource: String?
    public var rpm: Int?
    public var tpm: Int?
    /// Dollars per token.
    public var inputCost: Double
    public var outputCost: Double
    public var cacheReadCost: Double
    public var cacheWriteCost: Double
    public var contextWindow: Int?
    /// Runs on this network: privacy-pinned and budget-degraded traffic may go here.
    public var isLocal: Bool
    public var supportsEmbeddings: Bool { provider != .anthropic }

    /// Distinguishes deployments sharing a `model_name`.
    public var id: String { "\(name)#\(provider.rawValue)/\(model)@\(apiBase)" }

    public func cost(of usage: TokenUsage) -> Double {
        let uncachedInput = max(0, usage.promptTokens - usage.cacheReadTokens - usage.cacheWriteTokens)
        return Double(uncachedInput) * inputCost + Double(usage.completionTokens) * outputCost
            + Double(usage.cacheReadTokens) * cacheReadCost + Double(usage.cacheWriteTokens) * cacheWriteCost
    }

    static func defaultBase(_ kind: ProviderKind) -> String {
        switch kind {
        case .openai: "https://api.openai.com/v1"
        case .anthropic: "https://api.anthropic.com"
        case .gemini: "https://generativelanguage.googleapis.com/v1beta"
        case .ollama: "http://localhost:11434"
        }
    }
}

/// One `auto` rule: when every given condition holds, use `model`.
public struct AutoRule: Sendable {
    public var tasks: Set<String>
    public var minContextTokens: Int?
    public var maxContextTokens: Int?
    public var model: String

    public func matches(task: String, contextTokens: Int) -> Bool {
        if !tasks.isEmpty, !tasks.contains(task) { return false }
        if let minContextTokens, contextTokens <= minContextTokens { return false }
        if let maxContextTokens, contextTokens > maxContextTokens { return false }
        return true
    }
}

/// The router's YAML configuration (`ROUTER_CONFIG`): LiteLLM's `model_list` plus the router's
/// own sections. Loading never crashes: a broken file is a `ConfigurationError` naming the entry.
public struct RouterConfig: Sendable {
    public var deployments: [Deployment] = []
    public var aliases: [String: String] = [:]
    public var fallbacks: [String: [String]] = [:]
    public var numRetries = 1
    /// Longest wait before retrying the same deployment; a longer Retry-After means: cool it down and fall back now.
    public var retryMaxWait = 2.0
    public var backoffBase = 0.2
    public var allowedFails = 3
    public var cooldownSeconds = 30.0
    public var timeoutSeconds = 600.0
    public var firstTokenTimeoutSeconds = 60.0
    public var streamIdleTimeoutSeconds = 120.0
    public var dailyBudgetUSD: Double?
    public var monthlyBudgetUSD: Double?
    public var autoRules: [AutoRule] = RouterConfig.defaultAutoRules
    public var autoDefault = "gemini-flash"
    /// Where private data, Open WebUI's background tasks and over-budget traffic go.
    public var localModel = "local"
    public var cacheTTLSeconds = 3600.0
    public var cacheMaxEntries = 1000

    /// The seeds' rules, used when the file has no `auto:` section.
    public static let defaultAutoRules: [AutoRule] = [
        AutoRule(tasks: [], minContextTokens: 100_000, model: "gemini-flash"),
        AutoRule(tasks: ["summarization"], model: "gemini-flash"),
        AutoRule(tasks: ["reasoning", "code", "analysis"], model: "claude-sonnet"),
        AutoRule(tasks: ["classification"], model: "claude-haiku"),
        AutoRule(tasks: ["simple"], model: "local"),
    ]

    public init() {}

    public var modelNames: [String] {
        var seen = Set<String>()
        return deployments.map(\.name).filter { seen.insert($0).inserted }
    }

    public func deployments(named name: String) -> [Deployment] { deployments.filter { $0.name == name } }

    // MARK: - Loading

    public static func load(path: String, environment: [String: String]) throws -> RouterConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("ROUTER_CONFIG names a file that cannot be read: \(path)")
        }
        return try parse(yaml: String(decoding: data, as: UTF8.self), environment: environment)
    }

    public struct ConfigError: Error, CustomStringConvertible {
        public let description: String
        init(_ d: String) { description = d }
    }

    public static func parse(yaml: String, environment: [String: String]) throws -> RouterConfig {
        let root: JSONValue
        do { root = try JSONValue(yaml: Yams.load(yaml: yaml) ?? [String: Any]()) } catch let e as ConfigError { throw e } catch {
            throw ConfigError("router config is not valid YAML: \(error)")
        }
        guard case .object = root else { throw ConfigError("router config must be a mapping with a model_list") }
        var config = RouterConfig()
        guard let list = root["model_list"]?.arrayValue, !list.isEmpty else { throw ConfigError("router config needs a non-empty model_list") }
        for (i, entry) in list.enumerated() {
            config.deployments.append(try deployment(entry, index: i, environment: environment))
        }
        let settings = root["router_settings"] ?? [:]
        let litellm = root["litellm_settings"] ?? [:]
        if let a = root["aliases"]?.objectValue ?? settings["model_group_alias"]?.objectValue {
            for (k, v) in a { if let s = v.stringValue { config.aliases[k] = s } }
        }
        for source in [litellm["fallbacks"], settings["fallbacks"], litellm["context_window_fallbacks"]].compactMap({ $0?.arrayValue }) {
            for item in source { for (k, v) in item.objectValue ?? [:] { config.fallbacks[k] = (v.arrayValue ?? []).compactMap(\.stringValue) } }
        }
        // At most a billion: seconds become timers and counts become `Int`s, and 1e30 of either
        // traps (an edit saying `timeout: 1e30` once crashed the running router).
        func num(_ v: JSONValue?, _ name: String) throws -> Double? {
            guard let v, !v.isNull else { return nil }
            if let d = v.doubleValue ?? v.stringValue.flatMap(Double.init), d >= 0, d <= 1e9 { return d }
            throw ConfigError("router_settings.\(name) must be a number from 0 to 1e9")
        }
        config.numRetries = try num(settings["num_retries"] ?? litellm["num_retries"], "num_retries").map { Int($0) } ?? config.numRetries
        config.retryMaxWait = try num(settings["retry_max_wait"], "retry_max_wait") ?? config.retryMaxWait
        config.backoffBase = try num(settings["retry_backoff"], "retry_backoff") ?? config.backoffBase
        config.allowedFails = try num(settings["allowed_fails"], "allowed_fails").map { Int($0) } ?? config.allowedFails
        config.cooldownSeconds = try num(settings["cooldown_time"], "cooldown_time") ?? config.cooldownSeconds
        config.timeoutSeconds = try num(settings["timeout"] ?? litellm["request_timeout"], "timeout") ?? config.timeoutSeconds
        config.firstTokenTimeoutSeconds = try num(settings["first_token_timeout"], "first_token_timeout") ?? config.firstTokenTimeoutSeconds
        config.streamIdleTimeoutSeconds = try num(settings["stream_idle_timeout"] ?? settings["stream_timeout"], "stream_idle_timeout") ?? config.streamIdleTimeoutSeconds
        config.cacheTTLSeconds = try num(settings["cache_ttl"], "cache_ttl") ?? config.cacheTTLSeconds
        config.cacheMaxEntries = try num(settings["cache_max_entries"], "cache_max_entries").map { Int($0) } ?? config.cacheMaxEntries
        if let budgets = root["budgets"] {
            config.dailyBudgetUSD = try num(budgets["daily_usd"], "budgets.daily_usd")
            config.monthlyBudgetUSD = try num(budgets["monthly_usd"], "budgets.monthly_usd")
        }
        if let local = root["local_model"]?.stringValue { config.localModel = local }
        if let auto = root["auto"] {
            if let d = auto["default"]?.stringValue { config.autoDefault = d }
            if let rules = auto["rules"]?.arrayValue {
                config.autoRules = try rules.enumerated().map { i, r in
                    guard let model = r["model"]?.stringValue else { throw ConfigError("auto.rules[\(i)] needs a model") }
                    let when = r["when"] ?? [:]
                    let tasks = when["task"].map { $0.arrayValue?.compactMap(\.stringValue) ?? [$0.stringValue].compactMap { $0 } } ?? []
                    return AutoRule(
                        tasks: Set(tasks), minContextTokens: try Self.count(when["min_context_tokens"], "auto.rules[\(i)].when.min_context_tokens"),
                        maxContextTokens: try Self.count(when["max_context_tokens"], "auto.rules[\(i)].when.max_context_tokens"), model: model)
                }
            }
        }
        try config.validateReferences()
        return config
    }

    /// Every name used in aliases, fallbacks and rules must exist, or the mistake shows at startup.
    func validateReferences() throws {
        let names = Set(modelNames)
        func check(_ name: String, _ place: String) throws {
            if !names.contains(name), aliases[name] == nil { throw ConfigError("\(place) refers to unknown model '\(name)'") }
        }
        for (k, v) in aliases { try check(v, "aliases.\(k)") }
        for (k, list) in fallbacks { for v in list { try check(v, "fallbacks.\(k)") } }
    }

    /// A whole number from 0 to 10^12 (token counts, rates), nil when absent.
    static func count(_ value: JSONValue?, _ place: String) throws -> Int? {
        guard let value, !value.isNull else { return nil }
        guard let number = value.doubleValue, let whole = Int(exactly: number), (0...1_000_000_000_000).contains(whole) else {
            throw ConfigError("\(place) must be a whole number from 0 to 1e12")
        }
        return whole
    }

    static func deployment(_ entry: JSONValue, index i: Int, environment: [String: String]) throws -> Deployment {
        guard let name = entry["model_name"]?.stringValue, !name.isEmpty else { throw ConfigError("model_list[\(i)].model_name is required") }
        let params = entry["litellm_params"] ?? entry
        let info = entry["model_info"] ?? [:]
        guard var model = params["model"]?.stringValue, !model.isEmpty else { throw ConfigError("model_list[\(i)] (\(name)) needs litellm_params.model") }
        var provider: ProviderKind?
        if let p = (params["provider"] ?? entry["provider"])?.stringValue {
            guard let kind = ProviderKind(rawValue: p.lowercased()) ?? (p == "ollama_chat" ? .ollama : nil) else {
                throw ConfigError("model_list[\(i)] (\(name)): unknown provider '\(p)'; use openai, anthropic, gemini or ollama")
            }
            provider = kind
        }
        if let slash = model.firstIndex(of: "/") {
            let prefix = String(model[..<slash]).lowercased()
            let kind: ProviderKind? = switch prefix {
            case "openai": .openai
            case "anthropic": .anthropic
            case "gemini": .gemini
            case "ollama", "ollama_chat": .ollama
            default: nil
            }
            if let kind {
                if provider == nil { provider = kind }
                model = String(model[model.index(after: slash)...])
            }
        }
        guard let provider else { throw ConfigError("model_list[\(i)] (\(name)): say the provider (provider: or a prefix like anthropic/)") }
        var key: String?
        var keySource: String?
        if let raw = params["api_key"]?.stringValue {
            if raw.hasPrefix("os.environ/") {
                let variable = String(raw.dropFirst("os.environ/".count))
                keySource = variable
                key = environment[variable].flatMap { $0.isEmpty ? nil : $0 }
                if key == nil, let file = environment[variable + "_FILE"], let data = FileManager.default.contents(atPath: file) {
                    key = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                }
            } else {
                key = raw
                keySource = "model_list[\(i)].api_key"
            }
        }
        func price(_ perToken: String, _ perMillion: String) -> Double? {
            if let v = (info[perToken] ?? params[perToken])?.doubleValue { return v }
            if let v = (info[perMillion] ?? params[perMillion])?.doubleValue { return v / 1_000_000 }
            return nil
        }
        let inputCost = price("input_cost_per_token", "input_cost_per_million") ?? 0
        let base = (params["api_base"]?.stringValue ?? Deployment.defaultBase(provider)).trimmingSuffix("/")
        return Deployment(
            name: name, provider: provider, model: model, apiBase: base, apiKey: key, apiKeySource: keySource,
            rpm: try count(params["rpm"], "model_list[\(i)] (\(name)) rpm"), tpm: try count(params["tpm"], "model_list[\(i)] (\(name)) tpm"),
            inputCost: inputCost,
            outputCost: price("output_cost_per_token", "output_cost_per_million") ?? 0,
            // Without a cache price, cached tokens cost what input costs: never under-report.
            cacheReadCost: price("cache_read_input_token_cost", "cache_read_cost_per_million") ?? inputCost,
            cacheWriteCost: price("cache_creation_input_token_cost", "cache_write_cost_per_million") ?? inputCost,
            contextWindow: try count(info["max_input_tokens"] ?? info["context_window"] ?? params["context_window"], "model_list[\(i)] (\(name)) max_input_tokens"),
            isLocal: (info["local"] ?? params["local"])?.boolValue ?? (provider == .ollama))
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        var s = self
        while s.hasSuffix(suffix) { s.removeLast(suffix.count) }
        return s
    }
}

extension JSONValue {
    /// From what Yams loads (dictionaries, arrays, scalars).
    init(yaml value: Any) throws {
        switch value {
        case let d as [String: Any]: self = .object(try d.mapValues { try JSONValue(yaml: $0) })
        case let d as [AnyHashable: Any]:
            self = .object(try Dictionary(uniqueKeysWithValues: d.map { ("\($0.key)", try JSONValue(yaml: $0.value)) }))
        case let a as [Any]: self = .array(try a.map { try JSONValue(yaml: $0) })
        case let b as Bool: self = .bool(b)
        case let i as Int: self = .number(Double(i))
        case let d as Double: self = .number(d)
        case let s as String: self = .string(s)
        case is NSNull: self = .null
        default: self = .string("\(value)")
        }
    }
}
