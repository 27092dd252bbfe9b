import Foundation
import Logging
import ServiceKit
import ServiceLifecycle
import Synchronization

/// Takes usage records off the request path: a request only enqueues its record; this service
/// writes them to the store in the background (a database write per request would add
/// milliseconds of router overhead), at most once per `flushInterval`, everything queued since
/// the last write in one batch (one statement and one commit instead of one per request). Budgets
/// and reports see queued records at once. Records the store could not take (the database is
/// down) go back to the front of the queue and are tried again after 1 s, then up to every 5 s,
/// so an outage of the database loses no cost records (up to `queueLimit` of them). On shutdown
/// the queue is drained before the store closes.
public final class UsageRecorder: ImmediateUsageRecording, Service {
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
        recordNow(record)
    }

    public func recordNow(_ record: UsageRecord) {
        pending.withLock { $0.count += 1; $0.cost += record.costUSD }
        let dropped: UsageRecord? = queue.withLock { queue in
            queue.append(record)
            return queue.count > Self.queueLimit ? queue.removeFirst() : nil
        }
        if let dropped { release([dropped]) }
        wakeUp.yield()
    }

    public func spent(since date: Date) async -> Double {
        let queued = pending.withLock { $0.cost }
        return await store.spent(since: date) + queued
    }

    public func cachedSpent(since date: Date) -> Double? {
        spentNow(since: date)
    }

    public func spentNow(since date: Date) -> Double? {
        // Queued first, as in `spent`: a batch written between the two reads counts twice for a
        // moment rather than not at all (a budget errs towards the cap).
        let queued = pending.withLock { $0.cost }
        return store.cachedSpent(since: date).map { $0 + queued }
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
            var retryDelay = Self.firstRetryDelay
            for await _ in wakeUps {
                if await writeQueued() {
                    retryDelay = Self.firstRetryDelay
                    try? await cancellableSleep(for: flushInterval)
                } else {
                    // Nothing else may wake the writer (no traffic): it wakes itself to retry.
                    try? await cancelWhenGracefulShutdown { [retryDelay] in try await cancellableSleep(for: retryDelay) }
                    retryDelay = min(retryDelay * 2, Self.lastRetryDelay)
                    wakeUp.yield()
                }
            }
        } onGracefulShutdown: { [wakeUp] in
            wakeUp.finish()
        }
        // Last try; what the store still refuses is lost, and SQLUsageStore has logged it.
        await writeQueued()
    }

    static let firstRetryDelay = Duration.seconds(1)
    static let lastRetryDelay = Duration.seconds(5)

    /// Writes what is queued; false if the store gave some of it back (they are queued again).
    @discardableResult private func writeQueued() async -> Bool {
        let batch = queue.withLock { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        guard !batch.isEmpty else { return true }
        let unstored = await store.record(batch)
        guard !unstored.isEmpty else {
            release(batch)
            return true
        }
        // Back in front, in order, ahead of what came in meanwhile; past the limit the oldest go.
        let dropped: [UsageRecord] = queue.withLock { queue in
            queue.insert(contentsOf: unstored, at: 0)
            let excess = queue.count - Self.queueLimit
            guard excess > 0 else { return [] }
            defer { queue.removeFirst(excess) }
            return Array(queue.prefix(excess))
        }
        release(count: batch.count - unstored.count, cost: batch.reduce(0) { $0 + $1.costUSD } - unstored.reduce(0) { $0 + $1.costUSD })
        release(dropped)
        return false
    }

    /// Records no longer pending: written, or dropped past the queue limit.
    private func release(_ records: [UsageRecord]) {
        release(count: records.count, cost: records.reduce(0) { $0 + $1.costUSD })
    }

    private func release(count: Int, cost: Double) {
        guard count > 0 else { return }
        pending.withLock { $0.count -= count; $0.cost -= cost }
    }
}
