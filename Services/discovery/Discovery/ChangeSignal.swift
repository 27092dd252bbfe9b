import Foundation
import ServiceKit
import Synchronization

/// A version counter readers can wait on: each consumer of the registry (database, Redis, the HTTP
/// feed, announcements) remembers the version it last handled and waits for a newer one.
/// Unlike an `AsyncStream`, any number of readers can wait, and a cancelled wait loses nothing.
final class ChangeSignal: Sendable {
    private struct State {
        var version = 0
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    init() {}

    var version: Int { state.withLock { $0.version } }

    func bump() {
        let waiters = state.withLock { state in
            state.version += 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the version is above `seen`, or the task is cancelled.
    func wait(after seen: Int) async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.version > seen || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    /// Returns once the version is above `seen`, or after `timeout`.
    func wait(after seen: Int, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait(after: seen) }
            group.addTask { try? await cancellableSleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}
