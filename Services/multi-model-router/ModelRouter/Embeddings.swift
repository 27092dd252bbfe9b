import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceKit

/// Vectors for each input, in input order.
struct EmbeddingsResult: Sendable {
    var vectors: [JSONValue]
    var promptTokens: Int
}

/// Providers with an embeddings API (Anthropic has none).
protocol EmbeddingsAdapter: Sendable {
    func embed(_ inputs: [String], dimensions: Int?, deployment: Deployment, timeout: Double) async throws -> EmbeddingsResult
}

extension ProviderAdapters {
    func embeddings(for kind: ProviderKind) -> (any EmbeddingsAdapter)? {
        switch kind {
        case .openai: openai
        case .gemini: gemini
        case .ollama: ollama
        case .anthropic: nil
        }
    }
}

extension RouterAPI {
    /// `POST /v1/embeddings`: OpenAI's shape in and out, sent to OpenAI, Gemini or Ollama.
    func embeddings(_ request: Request) async throws -> Response {
        let start = ContinuousClock.now
        let keyName = try authorize(request)
        let buffer = try await request.collectBody(upTo: settings.maxBodyBytes)
        guard let body = try? JSONValue.parse(buffer.readableBytesView), case .object = body else {
            throw RouterError.invalidRequest("request body is not a JSON object")
        }
        guard let model = body["model"]?.stringValue, !model.isEmpty else { throw RouterError.invalidRequest("missing required parameter: 'model'", param: "model") }
        let inputs: [String]
        switch body["input"] {
        case .string(let s)?: inputs = [s]
        case .array(let a)? where !a.isEmpty && a.allSatisfy({ $0.stringValue != nil }): inputs = a.compactMap(\.stringValue)
        default: throw RouterError.invalidRequest("'input' must be a string or a non-empty array of strings", param: "input")
        }
        let config = configs.current
        var target = model
        while let next = config.aliases[target], target != next { target = next }
        guard config.modelNames.contains(target) else {
            throw RouterError(.notFound, "The model '\(model)' does not exist; see GET /v1/models", type: "invalid_request_error", param: "model", code: "model_not_found")
        }
        var decision = RouteDecision(requested: model, target: target, reason: "embeddings -> \(target)", task: "embeddings", contextTokens: 0, candidates: [])
        decision.candidates = engine.chain(for: target, config: config).filter(\.supportsEmbeddings)
        guard config.deployments(named: target).contains(where: \.supportsEmbeddings), !decision.candidates.isEmpty else {
            throw RouterError.invalidRequest("'\(model)' has no embeddings API (Anthropic has none); use an OpenAI, Gemini or Ollama model", param: "model")
        }
        let dimensions: Int? = if let value = body["dimensions"], !value.isNull {
            try ChatRequest.wholeNumber(value, "dimensions", in: 1...65_536)
        } else { nil }
        let outcome = try await dispatcher.attempt(decision: decision, config: config) { deployment in
            guard let adapter = dispatcher.adapters.embeddings(for: deployment.provider) else { throw UpstreamError.notConfigured("no embeddings API") }
            return try await withDeadline(config.timeoutSeconds, "no embeddings") {
                try await adapter.embed(inputs, dimensions: dimensions, deployment: deployment, timeout: config.timeoutSeconds)
            }
        }
        let result = outcome.value
        let usage = TokenUsage(promptTokens: result.promptTokens)
        let cost = outcome.deployment.cost(of: usage)
        await self.usage.record(UsageRecord(time: Date(), keyName: keyName, requestedModel: model, chosenModel: outcome.deployment.name, reason: decision.reason,
                                            usage: usage, costUSD: cost, latencyMs: (ContinuousClock.now - start).seconds * 1000, firstTokenMs: nil, outcome: "ok"))
        RouterMetrics.request(model: outcome.deployment.name, outcome: "ok")
        let json: JSONValue = [
            "object": "list", "model": .string(outcome.deployment.name),
            "data": .array(result.vectors.enumerated().map { ["object": "embedding", "index": .int($0.offset), "embedding": $0.element] }),
            "usage": ["prompt_tokens": .int(result.promptTokens), "total_tokens": .int(result.promptTokens)],
        ]
        let overhead = (ContinuousClock.now - start).seconds - outcome.upstreamSeconds
        return jsonResponse(json, headers: routerHeaders(model: outcome.deployment.name, reason: Dispatcher.reasonText(decision, outcome), cost: cost, overhead: overhead))
    }
}

extension Dispatcher {
    static func reasonText<V>(_ decision: RouteDecision, _ outcome: Outcome<V>) -> String {
        RouterAPI.reason(decision, outcome.fallbacks, outcome.deployment)
    }
}
