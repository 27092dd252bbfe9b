import Foundation
import Metrics
import Synchronization

/// Which aggregated list changed; the events of MCP 2026-07-28 `subscriptions/listen` streams.
enum ListKind: String, Sendable, CaseIterable {
    case tools, prompts, resources

    /// The `SubscriptionFilter` flag that asks for this kind.
    var filterKey: String { "\(rawValue)ListChanged" }
    /// The notification that announces it.
    var notification: String { "notifications/\(rawValue)/list_changed" }
}

/// The open `subscriptions/listen` streams of the stateless era (the era's replacement for the
/// session GET stream), each for one profile and the kinds of change it asked for. Bounded:
/// past `limit` open streams a new one is refused.
final class ListenStreams: Sendable {
    private struct Listener {
        let profile: String
        let kinds: Set<ListKind>
        let continuation: AsyncStream<ListKind>.Continuation
    }

    let limit: Int
    private let listeners = Mutex<(next: Int, open: [Int: Listener])>((0, [:]))
    /// The stateless era's counterpart of `gateway_active_sessions`.
    private let openStreams = Gauge(label: "gateway_listen_streams")

    init(limit: Int) {
        self.limit = limit
    }

    /// A stream of the changes `kinds` of `profile`'s lists; nil when `limit` streams are open.
    /// A listener that stops reading keeps its newest 64 changes: each only says "list again".
    func open(profile: String, kinds: Set<ListKind>) -> (id: Int, changes: AsyncStream<ListKind>)? {
        let (changes, continuation) = AsyncStream.makeStream(of: ListKind.self, bufferingPolicy: .bufferingNewest(64))
        let opened: (id: Int, count: Int)? = listeners.withLock { state in
            guard state.open.count < limit else { return nil }
            state.next += 1
            state.open[state.next] = Listener(profile: profile, kinds: kinds, continuation: continuation)
            return (state.next, state.open.count)
        }
        guard let opened else { return nil }
        openStreams.record(opened.count)
        return (opened.id, changes)
    }

    func close(_ id: Int) {
        let (closed, count) = listeners.withLock { ($0.open.removeValue(forKey: id), $0.open.count) }
        closed?.continuation.finish()
        openStreams.record(count)
    }

    /// Delivers what changed, per profile, to the listeners that asked for it.
    func publish(_ changes: [String: Set<ListKind>]) {
        let targets = listeners.withLock { $0.open.values.map { $0 } }
        for listener in targets {
            for kind in ListKind.allCases where listener.kinds.contains(kind) && changes[listener.profile]?.contains(kind) == true {
                listener.continuation.yield(kind)
            }
        }
    }
}
