import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Takes usage records off the request path: a request only enqueues its record; this service
/// writes them to the store in the background (a database write per request would add
/// milliseconds of router overhead), at most once per `flushInterval`, everything queued since
/// the last write in one batch (one statement and one commit instead of one per request). Budgets
/// and reports see queued records at once. On shutdown the queue is drained before the store
/// closes.
public final class UsageRecorder: UsageStore, Service {
    /// Records kept while the store is slower than the traffic; past this the oldest are dropped.
    static let queueLimit = 100_000

    let store: any UsageStore
    let flushInterval: Duration
    private let queue = Mutex<[UsageRecord]>([])
    /// Wakes the writer; one buffered wake-up covers everything queued before it runs.
    private let wakeUps: AsyncStream<Void>
    private let wakeUp: AsyncStream<Void>.Continuation
    /// Records queued but not yet written, and their cost (budgets must see them at once).
    private let pending = Mutex<(count: Int, cost: Double)>((0, 0))

    public init(store: any UsageStore, flushInterval: Duration = .milliseconds(200)) {
        self.store = store
        self.flushInterval = flushInterval
        (wakeUps, wakeUp) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    public func record(_ record: UsageRecord) async {
        pending.withLock { $0.count += 1; $0.cost += record.costUSD }
        let dropped: UsageRecord? = queue.withLock { queue in
            queue.append(record)
            return queue.count > Self.queueLimit ? queue.removeFirst() : nil
        }
        if let dropped { written([dropped]) }
        wakeUp.yield()
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
            for await _ in wakeUps {
                await writeQueued()
                try? await Task.sleep(for: flushInterval)
            }
        } onGracefulShutdown: { [wakeUp] in
            wakeUp.finish()
        }
        await writeQueued()
    }

    private func writeQueued() async {
        let batch = queue.withLock { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        guard !batch.isEmpty else { return }
        await store.record(batch)
        written(batch)
    }

    private func written(_ records: [UsageRecord]) {
        let cost = records.reduce(0) { $0 + $1.costUSD }
        pending.withLock { $0.count -= records.count; $0.cost -= cost }
    }
}
