import ServiceKit
import Foundation
import HTTPTypes
import Logging
import Metrics

/// Calls the chosen deployments in order: retries with exponential backoff and jitter that
/// honour Retry-After, cooldowns for deployments that keep failing, and fallback to the next
/// candidate on 429, 5xx, 529, timeouts and connection errors.
struct Dispatcher: Sendable {
    let adapters: ProviderAdapters
    let health: DeploymentHealth
    let logger: Logger
    var limits = DeploymentRateLimits()

    struct Outcome<Value: Sendable>: Sendable {
        var value: Value
        var deployment: Deployment
        var fallbacks: Int
        var upstreamSeconds: Double
    }

    /// A stream that has produced its first content (or ended cleanly), so it is safe to commit to.
    struct OpenedStream: Sendable {
        var stream: ChatEventStream
        var buffered: [ChatEvent]
        var firstTokenSeconds: Double
    }

    /// `firstFailure`: the first candidate was already called once, from the pipeline lane
    /// (`ChatLane`), and failed so; this goes on as if its first attempt here had.
    func complete(_ request: ChatRequest, decision: RouteDecision, config: RouterConfig, firstFailure: UpstreamError? = nil) async throws -> Outcome<ChatResult> {
        let outcome = try await attempt(decision: decision, config: config, firstFailure: firstFailure) { deployment in
            // The HTTP deadline stops at the response head; the body read needs its own.
            try await withDeadline(config.timeoutSeconds, "no complete answer") {
                try await adapters.adapter(for: deployment.provider).complete(request, deployment: deployment, timeout: config.timeoutSeconds)
            }
        }
        limits.addOutput(outcome.deployment, tokens: outcome.value.usage.completionTokens)
        return outcome
    }

    /// The deployment `attempt` calls first, when its API key is set (nil: `attempt` decides).
    func first(for decision: RouteDecision) -> Deployment? {
        guard let deployment = health.order(decision.candidates).first,
              deployment.apiKeySource == nil || deployment.apiKey != nil else { return nil }
        return deployment
    }

    /// Bookkeeping for a call `first(for:)` chose that answered (from the pipeline lane).
    func succeeded(_ deployment: Deployment, _ result: ChatResult) {
        answered(deployment)
        limits.addOutput(deployment, tokens: result.usage.completionTokens)
    }

    /// A deployment answered: its failure count resets and it shows as up.
    private func answered(_ deployment: Deployment) {
        health.recordSuccess(deployment)
        Gauge(label: "router_deployment_up", dimensions: [("deployment", deployment.name)]).record(1)
    }

    func stream(_ request: ChatRequest, decision: RouteDecision, config: RouterConfig) async throws -> Outcome<OpenedStream> {
        try await attempt(decision: decision, config: config) { deployment in
            let start = ContinuousClock.now
            let stream = try await adapters.adapter(for: deployment.provider).stream(
                request, deployment: deployment, timeout: min(config.timeoutSeconds, config.firstTokenTimeoutSeconds))
            // Hold back until the first content token: up to here a failure can still fall back.
            var buffered: [ChatEvent] = []
            while true {
                let remaining = config.firstTokenTimeoutSeconds - (ContinuousClock.now - start).seconds
                guard remaining > 0 else { throw UpstreamError.timeout("no first token within \(config.firstTokenTimeoutSeconds) s") }
                guard let event = try await stream.next(timeout: remaining) else { break }
                buffered.append(event)
                if event.isContent { break }
            }
            return OpenedStream(stream: stream, buffered: buffered, firstTokenSeconds: (ContinuousClock.now - start).seconds)
        }
    }

    func attempt<Value: Sendable>(
        decision: RouteDecision, config: RouterConfig, firstFailure: UpstreamError? = nil, _ call: (Deployment) async throws -> Value
    ) async throws -> Outcome<Value> {
        var firstFailure = firstFailure
        var lastError: UpstreamError?
        var fallbacks = 0
        let ordered = health.order(decision.candidates)
        guard !ordered.isEmpty else {
            throw RouterError(.serviceUnavailable, "no deployment is configured for '\(decision.target)'", type: "api_error", code: "no_deployment")
        }
        for (position, deployment) in ordered.enumerated() {
            if position > 0 {
                fallbacks += 1
                Counter(label: "router_fallbacks_total", dimensions: [("from", ordered[position - 1].name), ("to", deployment.name)]).increment()
            }
            // Chosen and admitted by `first(for:)` already.
            let calledBefore = position == 0 && firstFailure != nil
            if !calledBefore, deployment.apiKeySource != nil, deployment.apiKey == nil {
                lastError = .notConfigured("the API key variable \(deployment.apiKeySource!) is not set")
                logger.warning("deployment skipped: API key not set", metadata: ["deployment": "\(deployment.name)", "variable": "\(deployment.apiKeySource!)"])
                continue
            }
            if !calledBefore, let wait = limits.admit(deployment, tokens: decision.contextTokens) {
                lastError = .status(429, retryAfter: wait, message: "\(deployment.name) is at the rpm/tpm limit set in the router config")
                Counter(label: "router_local_rate_limited_total", dimensions: [("deployment", deployment.name)]).increment()
                logger.info("deployment skipped: at its rpm/tpm limit", metadata: ["deployment": "\(deployment.name)", "retry_after_s": "\(Int(wait.rounded(.up)))"])
                continue
            }
            for retry in 0...max(0, config.numRetries) {
                let start = ContinuousClock.now
                do {
                    if let failure = firstFailure.take() { throw failure }
                    let value = try await call(deployment)
                    answered(deployment)
                    return Outcome(value: value, deployment: deployment, fallbacks: fallbacks, upstreamSeconds: (ContinuousClock.now - start).seconds)
                } catch let error as UpstreamError {
                    lastError = error
                    let fallBack = error.isRetryable || [401, 403, 404].contains(error.statusCode ?? 0)
                    guard fallBack else { throw RouterError.fromUpstream(error) }
                    let cooled = health.recordFailure(deployment, retryAfter: error.retryAfter, config: config)
                    if cooled { Gauge(label: "router_deployment_up", dimensions: [("deployment", deployment.name)]).record(0) }
                    logger.warning("upstream call failed", metadata: ["deployment": "\(deployment.name)", "outcome": "\(error.outcome)", "retry": "\(retry)", "error": "\(error)"])
                    guard error.isRetryable, !cooled, retry < config.numRetries else { break }
                    let backoff = config.backoffBase * pow(2, Double(retry)) * Double.random(in: 0.5...1.5)
                    let wait = max(error.retryAfter ?? 0, backoff)
                    guard wait <= config.retryMaxWait else { break }
                    try await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
                }
            }
        }
        throw RouterError.allFailed(lastError, target: decision.target)
    }
}

/// Runs `operation`, throwing ``UpstreamError/timeout`` if it takes longer than `seconds`.
func withDeadline<T: Sendable>(_ seconds: Double, _ what: String, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    do {
        return try await ServiceKit.withDeadline(Duration.milliseconds(Int64(seconds * 1000)), what, operation)
    } catch is ServiceKit.DeadlineExceeded {
        throw UpstreamError.timeout("\(what) within \(seconds) s")
    }
}

extension UpstreamError {
    var statusCode: Int? { if case .status(let c, _, _) = self { c } else { nil } }
}

extension RouterError {
    /// A provider's refusal of the request itself (400, 413, 422): the client's to fix.
    static func fromUpstream(_ error: UpstreamError) -> RouterError {
        // Only a 4xx passes through: a code from a stream's error event can be anything (`-5`
        // would trap in `HTTPResponse.Status`).
        let code = error.statusCode.flatMap { (400...499).contains($0) ? $0 : nil } ?? 502
        return RouterError(HTTPResponse.Status(code: code), "upstream rejected the request: \(error)", type: code < 500 ? "invalid_request_error" : "api_error", code: "upstream_error")
    }

    static func allFailed(_ error: UpstreamError?, target: String) -> RouterError {
        let detail = error.map { "\($0)" } ?? "no deployment could be called"
        if let error, error.statusCode == 429 {
            return RouterError(.tooManyRequests, "every deployment for '\(target)' is rate limited: \(detail)", type: "rate_limit_error", code: "rate_limited", retryAfter: Int((error.retryAfter ?? 1).rounded(.up)))
        }
        if case .timeout? = error {
            return RouterError(.gatewayTimeout, "every deployment for '\(target)' timed out: \(detail)", type: "timeout_error", code: "upstream_timeout", retryAfter: 5)
        }
        return RouterError(.serviceUnavailable, "every deployment for '\(target)' failed: \(detail)", type: "api_error", code: "upstream_unavailable", retryAfter: 5)
    }
}
