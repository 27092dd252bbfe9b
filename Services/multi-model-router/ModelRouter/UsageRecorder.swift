import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Takes usage records off the request path: a request only enqueues its record; this service
/// writes them to the store in the background (a database write per request would add
/// milliseconds of router overhead). On shutdown the queue is drained before the store closes.
public final class UsageRecorder: UsageStore, Service {
    let store: any UsageStore
    private let stream: AsyncStream<UsageRecord>
    private let continuation: AsyncStream<UsageRecord>.Continuation
    /// Records queued but not yet written, and their cost (budgets must see them at once).
    private let pending = Mutex<(count: Int, cost: Double)>((0, 0))

    public init(store: any UsageStore) {
        self.store = store
        (stream, continuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(100_000))
    }

    public func record(_ record: UsageRecord) async {
        pending.withLock { $0.count += 1; $0.cost += record.costUSD }
        continuation.yield(record)
    }

    public func spent(since date: Date) async -> Double {
        let queued = pending.withLock { $0.cost }
        return await store.spent(since: date) + queued
    }

    public func summary(groupBy: String) async -> [JSONValue] {
        // A report right after a request should include it: wait briefly for the queue to drain.
        for _ in 0..<100 where pending.withLock({ $0.count }) > 0 {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return await store.summary(groupBy: groupBy)
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            for await record in stream {
                await store.record(record)
                pending.withLock { $0.count -= 1; $0.cost -= record.costUSD }
            }
        } onGracefulShutdown: { [continuation] in
            continuation.finish()
        }
    }
}
