import Testing

@testable import ModelRouter

private func deployment(rpm: Int? = nil, tpm: Int? = nil) -> Deployment {
    Deployment(
        name: "gpt", provider: .openai, model: "gpt-4o-mini", apiBase: "http://x", apiKey: "k", apiKeySource: nil, rpm: rpm, tpm: tpm,
        inputCost: 0, outputCost: 0, cacheReadCost: 0, cacheWriteCost: 0, contextWindow: nil, isLocal: false)
}

/// rpm/tpm from the router config: a deployment over its per-minute limit is skipped, with the
/// time until it has room again.
@Suite struct DeploymentRateLimitsTests {
    @Test func requestsPerMinuteAreCountedOverASlidingMinute() {
        let limits = DeploymentRateLimits()
        let d = deployment(rpm: 2)
        let start = ContinuousClock.now
        #expect(limits.admit(d, tokens: 10, now: start) == nil)
        #expect(limits.admit(d, tokens: 10, now: start + .seconds(10)) == nil)
        let wait = limits.admit(d, tokens: 10, now: start + .seconds(20))
        #expect(wait.map { abs($0 - 40) < 0.01 } == true, "the first request leaves the window at 60 s")
        #expect(limits.admit(d, tokens: 10, now: start + .seconds(59)) != nil, "a refusal is not counted")
        #expect(limits.admit(d, tokens: 10, now: start + .seconds(61)) == nil)
    }

    @Test func tokensPerMinuteCountInputAndOutputButNeverBlockARequestForever() {
        let limits = DeploymentRateLimits()
        let d = deployment(tpm: 1000)
        let start = ContinuousClock.now
        #expect(limits.admit(d, tokens: 5000, now: start) == nil, "an empty window admits even an oversized request")
        #expect(limits.admit(d, tokens: 1, now: start + .seconds(1)) != nil)
        #expect(limits.admit(d, tokens: 600, now: start + .seconds(61)) == nil)
        limits.addOutput(d, tokens: 300)
        #expect(limits.admit(d, tokens: 200, now: start + .seconds(62)) != nil, "600 in + 300 out + 200 > 1000")
        #expect(limits.admit(d, tokens: 100, now: start + .seconds(62)) == nil)
    }

    @Test func deploymentsWithoutLimitsAreNeverTracked() {
        let limits = DeploymentRateLimits()
        let d = deployment()
        for _ in 0..<1000 { #expect(limits.admit(d, tokens: 100_000) == nil) }
    }
}
