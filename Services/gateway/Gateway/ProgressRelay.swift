import MCP
import Synchronization

/// Carries a shard's `notifications/progress` back to the client session that asked for it.
///
/// Progress tokens are chosen by clients and may repeat across sessions, so the gateway swaps
/// each client's token for a unique one on the way to the shard and back on the way out.
final class ProgressRelay: Sendable {
    typealias Sink = @Sendable (ProgressNotification.Parameters) async -> Void
    private let sinks = Mutex([ProgressToken: (original: ProgressToken, sink: Sink)]())
    private let counter = Atomic<Int>(0)

    /// Registers a sink and returns the token to send to the shard instead of `original`.
    func register(original: ProgressToken, sink: @escaping Sink) -> ProgressToken {
        let token = ProgressToken.string("gw-\(counter.wrappingAdd(1, ordering: .relaxed).newValue)")
        sinks.withLock { $0[token] = (original, sink) }
        return token
    }

    func unregister(_ token: ProgressToken) {
        _ = sinks.withLock { $0.removeValue(forKey: token) }
    }

    func deliver(_ params: ProgressNotification.Parameters) async {
        guard let entry = sinks.withLock({ $0[params.progressToken] }) else { return }
        await entry.sink(ProgressNotification.Parameters(
            progressToken: entry.original, progress: params.progress, total: params.total, message: params.message))
    }
}
