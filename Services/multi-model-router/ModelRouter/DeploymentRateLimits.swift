import ServiceKit
import Synchronization

/// The `rpm`/`tpm` of each deployment in the router config, enforced the way LiteLLM's router
/// does: a deployment whose last 60 seconds already hold `rpm` requests (or `tpm` tokens) is
/// skipped, so the call falls back to the next candidate instead of earning a 429 upstream.
///
/// Tokens are counted as the request's estimated input when it is admitted, plus the output
/// reported for a finished answer (``addOutput(_:tokens:)``). A single request larger than `tpm`
/// is admitted when the window is empty, so a big prompt is never refused forever.
public final class DeploymentRateLimits: Sendable {
    struct Entry {
        let at: ContinuousClock.Instant
        var tokens: Int
    }

    static let window: Duration = .seconds(60)
    private let entries = Mutex<[String: [Entry]]>([:])

    public init() {}

    /// Records the request and returns nil when `deployment` may be called now; otherwise the
    /// seconds until its window has room (for `Retry-After`), recording nothing.
    func admit(_ deployment: Deployment, tokens: Int, now: ContinuousClock.Instant = .now) -> Double? {
        guard deployment.rpm != nil || deployment.tpm != nil else { return nil }
        return entries.withLock { all in
            var list = (all[deployment.id] ?? []).filter { now - $0.at < Self.window }
            defer { all[deployment.id] = list }
            let overRequests = deployment.rpm.map { list.count >= $0 } ?? false
            let used = list.reduce(0) { $0 + $1.tokens }
            let overTokens = deployment.tpm.map { !list.isEmpty && used + tokens > $0 } ?? false
            guard overRequests || overTokens, let oldest = list.first else {
                list.append(Entry(at: now, tokens: max(0, tokens)))
                return nil
            }
            return max(0.001, (oldest.at + Self.window - now).seconds)
        }
    }

    /// Adds a finished answer's output tokens to the deployment's most recent request.
    func addOutput(_ deployment: Deployment, tokens: Int) {
        guard deployment.tpm != nil, tokens > 0 else { return }
        entries.withLock { all in
            guard var list = all[deployment.id], !list.isEmpty else { return }
            list[list.count - 1].tokens += tokens
            all[deployment.id] = list
        }
    }
}
