import CoreMetrics
import Metrics

/// The router's Prometheus series, in one place so names stay consistent.
enum RouterMetrics {
    static func request(model: String, outcome: String) {
        Counter(label: "router_requests_total", dimensions: [("model", model), ("outcome", outcome)]).increment()
    }

    static func tokens(model: String, usage: TokenUsage) {
        let kinds = [("prompt", usage.promptTokens), ("completion", usage.completionTokens), ("cache_read", usage.cacheReadTokens), ("cache_write", usage.cacheWriteTokens), ("reasoning", usage.reasoningTokens)]
        for (kind, count) in kinds where count > 0 {
            Counter(label: "router_tokens_total", dimensions: [("model", model), ("type", kind)]).increment(by: count)
        }
    }

    static func cost(model: String, usd: Double) {
        guard usd > 0 else { return }
        FloatingPointCounter(label: "router_cost_usd_total", dimensions: [("model", model)]).increment(by: usd)
    }

    static func upstreamLatency(model: String, seconds: Double) {
        Timer(label: "router_upstream_latency_seconds", dimensions: [("model", model)]).recordNanoseconds(Int64(seconds * 1e9))
    }

    static func firstToken(model: String, seconds: Double) {
        Timer(label: "router_time_to_first_token_seconds", dimensions: [("model", model)]).recordNanoseconds(Int64(seconds * 1e9))
    }

    /// Requests `ChatLane` sent from the event loop.
    static func laneRequest(deployment: String) {
        Counter(label: "router_fast_lane_requests_total", dimensions: [("deployment", deployment)]).increment()
    }

    static func overhead(seconds: Double) {
        Timer(label: "router_overhead_seconds").recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }
}
