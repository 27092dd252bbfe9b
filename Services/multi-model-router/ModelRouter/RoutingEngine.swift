import HTTPTypes
import Foundation
import Logging
import Synchronization
import ServiceKit

/// What the router decided for one request, before calling anything.
public struct RouteDecision: Sendable {
    public var requested: String
    /// The model group chosen (a `model_name`).
    public var target: String
    /// One line a person can read: `task=code ctx=41k -> claude-sonnet`.
    public var reason: String
    public var task: String
    public var contextTokens: Int
    /// Deployments to try, in order (the target's, then its fallbacks').
    public var candidates: [Deployment]
    public var pinnedLocal = false
    public var budgetDegraded = false

    public var json: JSONValue {
        [
            "requested_model": .string(requested), "model": .string(target), "reason": .string(reason),
            "task": .string(task), "context_tokens": .int(contextTokens),
            "pinned_local": .bool(pinnedLocal), "budget_degraded": .bool(budgetDegraded),
            "candidates": .array(candidates.map { ["model_name": .string($0.name), "provider": .string($0.provider.rawValue), "model": .string($0.model), "local": .bool($0.isLocal)] }),
        ]
    }
}

/// Turns a request into a ``RouteDecision``: aliases, background tasks, privacy pinning, the
/// `auto` rules from the config, budgets, and fallback chains.
public final class RoutingEngine: Sendable {
    private let pinned = Mutex<Set<String>>([])
    private let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    public func decide(_ request: ChatRequest, config: RouterConfig, budgetExceeded: Bool) throws(RouterError) -> RouteDecision {
        let requested = request.model
        var target = requested
        var hops = 0
        while let next = config.aliases[target], hops < 8 { target = next; hops += 1 }
        let context = request.estimatedPromptTokens
        let task = target == "auto" ? RequestClassifier.task(of: request) : "-"
        var reason: String
        let names = Set(config.modelNames)
        var decision = RouteDecision(requested: requested, target: target, reason: "", task: task, contextTokens: context, candidates: [])

        let privateKinds = RequestClassifier.privateData(in: request)
        let conversation = RequestClassifier.conversationKey(request)
        let alreadyPinned = conversation.map { key in pinned.withLock { $0.contains(key) } } ?? false
        if !privateKinds.isEmpty || alreadyPinned {
            if let conversation, !alreadyPinned {
                pinned.withLock { set in
                    // Bounded memory; losing old pins only matters if their private message was trimmed from history.
                    if set.count >= 100_000 { set.removeAll() }
                    set.insert(conversation)
                }
            }
            guard names.contains(config.localModel) else {
                throw RouterError(.serviceUnavailable, "this request contains private data and no local model ('\(config.localModel)') is configured", type: "api_error", code: "no_local_model")
            }
            // Kinds only: the content never reaches the log.
            logger.notice("private data detected: conversation pinned to the local model", metadata: ["kinds": "\(privateKinds.joined(separator: ","))", "already_pinned": "\(alreadyPinned)"])
            decision.target = config.localModel
            decision.pinnedLocal = true
            decision.reason = "private=\(privateKinds.first ?? "pinned") -> \(config.localModel)"
            decision.candidates = config.deployments(named: config.localModel).filter(\.isLocal)
            return decision
        }
        if let background = RequestClassifier.backgroundTask(of: request), names.contains(config.localModel) {
            decision.target = config.localModel
            decision.reason = "background=\(background) -> \(config.localModel)"
            decision.candidates = chain(for: config.localModel, config: config)
            return decision
        }
        if target == "auto" {
            let rule = config.autoRules.first { $0.matches(task: task, contextTokens: context) && names.contains(config.aliases[$0.model] ?? $0.model) }
            target = config.aliases[rule?.model ?? config.autoDefault] ?? rule?.model ?? config.autoDefault
            reason = "task=\(task) ctx=\(Self.compact(context)) -> \(target)"
            guard names.contains(target) else {
                throw RouterError(.notFound, "auto routing chose '\(target)', which is not in model_list", type: "invalid_request_error", param: "model", code: "model_not_found")
            }
        } else {
            guard names.contains(target) else {
                throw RouterError(.notFound, "The model '\(requested)' does not exist; see GET /v1/models", type: "invalid_request_error", param: "model", code: "model_not_found")
            }
            reason = target == requested ? "requested -> \(target)" : "alias \(requested) -> \(target)"
        }
        decision.target = target
        if budgetExceeded, config.deployments(named: target).contains(where: { !$0.isLocal }), names.contains(config.localModel) {
            decision.target = config.localModel
            decision.budgetDegraded = true
            decision.reason = reason + " budget=exceeded -> \(config.localModel)"
            decision.candidates = config.deployments(named: config.localModel).filter(\.isLocal)
            return decision
        }
        decision.reason = reason
        decision.candidates = chain(for: target, config: config)
        return decision
    }

    /// The group's deployments, then each fallback group's, without repeats.
    func chain(for target: String, config: RouterConfig) -> [Deployment] {
        var seen = Set<String>()
        var out: [Deployment] = []
        for name in [target] + (config.fallbacks[target] ?? config.fallbacks["*"] ?? []) {
            for d in config.deployments(named: config.aliases[name] ?? name) where seen.insert(d.id).inserted { out.append(d) }
        }
        return out
    }

    static func compact(_ tokens: Int) -> String {
        tokens >= 1000 ? "\(tokens / 1000)k" : "\(tokens)"
    }
}

/// Failures per deployment; one that keeps failing cools down and is tried last.
public final class DeploymentHealth: Sendable {
    struct State { var consecutiveFails = 0; var cooldownUntil: ContinuousClock.Instant? }
    private let states = Mutex<[String: State]>([:])

    public init() {}

    func isCoolingDown(_ d: Deployment) -> Bool {
        states.withLock { $0[d.id]?.cooldownUntil.map { $0 > .now } ?? false }
    }

    func recordSuccess(_ d: Deployment) { states.withLock { $0[d.id] = State() } }

    /// A Retry-After longer than we are willing to wait also starts a cooldown at once.
    func recordFailure(_ d: Deployment, retryAfter: Double?, config: RouterConfig) -> Bool {
        states.withLock { all in
            var s = all[d.id] ?? State()
            s.consecutiveFails += 1
            var cooled = false
            if s.consecutiveFails >= config.allowedFails || (retryAfter ?? 0) > config.retryMaxWait {
                let seconds = max(config.cooldownSeconds, retryAfter ?? 0)
                s.cooldownUntil = .now + .milliseconds(Int64(seconds * 1000))
                cooled = true
            }
            all[d.id] = s
            return cooled
        }
    }

    /// Usable deployments first, cooling ones after (still better than failing outright).
    func order(_ candidates: [Deployment]) -> [Deployment] {
        candidates.filter { !isCoolingDown($0) } + candidates.filter { isCoolingDown($0) }
    }

    func report() -> [(String, Bool)] {
        states.withLock { $0.map { ($0.key, $0.value.cooldownUntil.map { $0 > .now } ?? false) } }
    }
}
