import Foundation
import Synchronization
import ServiceKit

/// One answered (or failed) request, for cost reports and budgets.
public struct UsageRecord: Sendable {
    public var time: Date
    public var keyName: String
    public var requestedModel: String
    public var chosenModel: String
    public var reason: String
    public var usage: TokenUsage
    public var costUSD: Double
    public var latencyMs: Double
    public var firstTokenMs: Double?
    /// `ok`, `cache_hit`, or what went wrong (`http_529`, `timeout`, `stream_error`...).
    public var outcome: String
}

/// Where usage records go. The in-process store is the default; a database-backed one plugs in here.
public protocol UsageStore: Sendable {
    func record(_ record: UsageRecord) async
    /// Several records at once (the background writer's batches); returns those that could not be
    /// stored (the database is down), for the writer to try again.
    @discardableResult func record(_ records: [UsageRecord]) async -> [UsageRecord]
    /// Dollars spent since `date`.
    func spent(since date: Date) async -> Double
    /// The same if known without asking the database (a recent total); nil otherwise.
    func cachedSpent(since date: Date) -> Double?
    /// Totals grouped by `model`, `key` or `day`.
    func summary(groupBy: String) async -> [JSONValue]
}

/// A store that takes a record without waiting: the pipeline lane (`ChatLane`) records from the
/// event loop. Its `record(_:)` must be the same.
public protocol ImmediateUsageRecording: UsageStore {
    func recordNow(_ record: UsageRecord)
    /// Dollars spent since `date` if known without waiting (records just taken included).
    func spentNow(since date: Date) -> Double?
}

extension UsageStore {
    @discardableResult public func record(_ records: [UsageRecord]) async -> [UsageRecord] {
        for record in records { await self.record(record) }
        return []
    }
}

/// Keeps the most recent records in memory (bounded).
public final class InMemoryUsageStore: ImmediateUsageRecording {
    private let records = Mutex<[UsageRecord]>([])
    private let limit: Int

    public init(limit: Int = 200_000) { self.limit = limit }

    public func record(_ record: UsageRecord) async {
        recordNow(record)
    }

    public func recordNow(_ record: UsageRecord) {
        records.withLock { r in
            r.append(record)
            if r.count > limit { r.removeFirst(r.count - limit) }
        }
    }

    public func spent(since date: Date) async -> Double {
        spentNow(since: date) ?? 0
    }

    public func cachedSpent(since date: Date) -> Double? {
        spentNow(since: date)
    }

    public func spentNow(since date: Date) -> Double? {
        records.withLock { $0.reduce(0) { $1.time >= date ? $0 + $1.costUSD : $0 } }
    }

    public func summary(groupBy: String) async -> [JSONValue] {
        let all = records.withLock { $0 }
        let day = DateFormatter()
        day.dateFormat = "yyyy-MM-dd"
        day.timeZone = TimeZone(identifier: "UTC")
        var groups: [String: (requests: Int, prompt: Int, completion: Int, cacheRead: Int, cost: Double)] = [:]
        for r in all {
            let key = switch groupBy {
            case "key": r.keyName
            case "day": day.string(from: r.time)
            default: r.chosenModel
            }
            var g = groups[key] ?? (0, 0, 0, 0, 0)
            g.requests += 1
            g.prompt += r.usage.promptTokens
            g.completion += r.usage.completionTokens
            g.cacheRead += r.usage.cacheReadTokens
            g.cost += r.costUSD
            groups[key] = g
        }
        return groups.keys.sorted().map { k in
            let g = groups[k]!
            return ["group": .string(k), "requests": .int(g.requests), "prompt_tokens": .int(g.prompt), "completion_tokens": .int(g.completion),
                    "cached_tokens": .int(g.cacheRead), "cost_usd": .number(g.cost)]
        }
    }
}

/// Daily and monthly caps, checked against the usage store (UTC days and months).
struct BudgetCheck {
    /// Each configured cap with the start of its period.
    static func periods(config: RouterConfig, now: Date) -> [(start: Date, cap: Double)] {
        guard config.dailyBudgetUSD != nil || config.monthlyBudgetUSD != nil else { return [] }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var periods: [(start: Date, cap: Double)] = []
        if let daily = config.dailyBudgetUSD { periods.append((calendar.startOfDay(for: now), daily)) }
        if let monthly = config.monthlyBudgetUSD, let start = calendar.dateInterval(of: .month, for: now)?.start { periods.append((start, monthly)) }
        return periods
    }

    static func exceeded(config: RouterConfig, store: any UsageStore, now: Date = Date()) async -> Bool {
        for period in periods(config: config, now: now) where await store.spent(since: period.start) >= period.cap { return true }
        return false
    }

    /// The same from totals known without a query; nil when one is not (`ChatLane` then leaves
    /// the request to the route, which asks the database).
    static func exceededNow(config: RouterConfig, store: any ImmediateUsageRecording, now: Date = Date()) -> Bool? {
        var exceeded = false
        for period in periods(config: config, now: now) {
            guard let spent = store.spentNow(since: period.start) else { return nil }
            exceeded = exceeded || spent >= period.cap
        }
        return exceeded
    }
}
