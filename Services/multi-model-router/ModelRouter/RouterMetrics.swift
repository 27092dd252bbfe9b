import CoreMetrics
import Metrics
import ServiceKit

/// The router's Prometheus series, in one place so names stay consistent.
enum RouterMetrics {
    static func request(model: String, outcome: String) {
        requests.for(model, outcome).increment()
    }

    static func tokens(model: String, usage: TokenUsage) {
        let kinds = [("prompt", usage.promptTokens), ("completion", usage.completionTokens), ("cache_read", usage.cacheReadTokens), ("cache_write", usage.cacheWriteTokens), ("reasoning", usage.reasoningTokens)]
        for (kind, count) in kinds where count > 0 {
            tokens.for(model, kind).increment(by: count)
        }
    }

    static func cost(model: String, usd: Double) {
        guard usd > 0 else { return }
        costs.for(model).increment(by: usd)
    }

    static func upstreamLatency(model: String, seconds: Double) {
        upstreamLatencies.for(model).recordNanoseconds(Int64(seconds * 1e9))
    }

    static func firstToken(model: String, seconds: Double) {
        firstTokens.for(model).recordNanoseconds(Int64(seconds * 1e9))
    }

    /// Requests `ChatLane` sent from the event loop.
    static func laneRequest(deployment: String) {
        laneRequests.for(deployment).increment()
    }

    static func overhead(seconds: Double) {
        overheads.for().recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }

    // Handles made once per model (MetricHandles: the factory lookup was per request).
    private static let requests = MetricHandles(["model", "outcome"]) { Counter(label: "router_requests_total", dimensions: $0) }
    private static let tokens = MetricHandles(["model", "type"]) { Counter(label: "router_tokens_total", dimensions: $0) }
    private static let costs = MetricHandles(["model"]) { FloatingPointCounter(label: "router_cost_usd_total", dimensions: $0) }
    private static let upstreamLatencies = MetricHandles(["model"]) { Timer(label: "router_upstream_latency_seconds", dimensions: $0) }
    private static let firstTokens = MetricHandles(["model"]) { Timer(label: "router_time_to_first_token_seconds", dimensions: $0) }
    private static let laneRequests = MetricHandles(["deployment"]) { Counter(label: "router_fast_lane_requests_total", dimensions: $0) }
    private static let overheads = MetricHandles([]) { Timer(label: "router_overhead_seconds", dimensions: $0) }
}
