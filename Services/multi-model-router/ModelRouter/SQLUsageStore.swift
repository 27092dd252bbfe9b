import Foundation
import Logging
import StorageKit
import Synchronization
import ServiceKit

/// Usage records in StorageKit's database: PostgreSQL when `DATABASE_URL` is set, SQLite otherwise.
/// A failed write is logged and dropped: accounting must never fail a chat.
public final class SQLUsageStore: UsageStore {
    let database: any Database
    let logger: Logger
    /// Budget checks run on every request: each period's total is read at most once a second, and
    /// what this process writes meanwhile is added to it (so `ChatLane` can check budgets without a
    /// query; another router sharing the database is seen within the second).
    private let spentCache = Mutex(SpentTotals())
    static let spentCacheLifetime = Duration.seconds(1)

    struct SpentTotals {
        var byPeriod: [Date: (total: Double, read: ContinuousClock.Instant)] = [:]
        /// Batches written; a total read while one was written may miss it and is not kept.
        var writes = 0
    }
    /// The last total read for each budget period, for when the database cannot be asked.
    private let lastKnownSpent = Mutex<[Date: Double]>([:])

    public init(database: any Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    public static let migrations = [
        Migration(
            id: "router-001-usage",
            postgres: [
                """
                CREATE TABLE IF NOT EXISTS router_usage (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL, key_name TEXT NOT NULL,
                requested_model TEXT NOT NULL, chosen_model TEXT NOT NULL, reason TEXT NOT NULL, prompt_tokens BIGINT NOT NULL,
                completion_tokens BIGINT NOT NULL, cache_read_tokens BIGINT NOT NULL, cache_write_tokens BIGINT NOT NULL,
                reasoning_tokens BIGINT NOT NULL, tokens_estimated BOOLEAN NOT NULL, cost_usd DOUBLE PRECISION NOT NULL,
                latency_ms DOUBLE PRECISION NOT NULL, first_token_ms DOUBLE PRECISION, outcome TEXT NOT NULL)
                """,
                "CREATE INDEX IF NOT EXISTS router_usage_at ON router_usage (at)",
            ],
            sqlite: [
                """
                CREATE TABLE IF NOT EXISTS router_usage (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, key_name TEXT NOT NULL,
                requested_model TEXT NOT NULL, chosen_model TEXT NOT NULL, reason TEXT NOT NULL, prompt_tokens INTEGER NOT NULL,
                completion_tokens INTEGER NOT NULL, cache_read_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL,
                reasoning_tokens INTEGER NOT NULL, tokens_estimated INTEGER NOT NULL, cost_usd REAL NOT NULL,
                latency_ms REAL NOT NULL, first_token_ms REAL, outcome TEXT NOT NULL)
                """,
                "CREATE INDEX IF NOT EXISTS router_usage_at ON router_usage (at)",
            ]),
    ]

    public func record(_ record: UsageRecord) async {
        await self.record([record])
    }

    /// One multi-row INSERT per `rowsPerStatement` records: one statement to prepare and one
    /// commit for a whole batch.
    @discardableResult public func record(_ records: [UsageRecord]) async -> [UsageRecord] {
        var unstored: [UsageRecord] = []
        for start in stride(from: 0, to: records.count, by: Self.rowsPerStatement) {
            let rows = records[start..<min(start + Self.rowsPerStatement, records.count)]
            do {
                try await database.execute(Self.insert(rows: rows.count), rows.flatMap(Self.values))
                spentCache.withLock { totals in
                    totals.writes += 1
                    for (start, entry) in totals.byPeriod {
                        totals.byPeriod[start]?.total = entry.total + rows.reduce(0) { $1.time >= start ? $0 + $1.costUSD : $0 }
                    }
                }
            } catch {
                logger.error("usage records not stored yet", metadata: ["count": "\(rows.count)", "error": "\(error)"])
                unstored += rows
            }
        }
        return unstored
    }

    /// 15 parameters a row: 50 rows stay under SQLite's oldest limit of 999 parameters.
    static let rowsPerStatement = 50
    static let columns = """
        at, key_name, requested_model, chosen_model, reason, prompt_tokens, completion_tokens, cache_read_tokens,
        cache_write_tokens, reasoning_tokens, tokens_estimated, cost_usd, latency_ms, first_token_ms, outcome
        """

    static func insert(rows: Int) -> String {
        let tuples = (0..<rows).map { row in
            "(" + (1...15).map { "$\(row * 15 + $0)" }.joined(separator: ", ") + ")"
        }
        return "INSERT INTO router_usage (\(columns)) VALUES " + tuples.joined(separator: ", ")
    }

    static func values(_ r: UsageRecord) -> [SQLValue] {
        [.date(r.time), .text(r.keyName), .text(r.requestedModel), .text(r.chosenModel), .text(r.reason),
         .int(Int64(r.usage.promptTokens)), .int(Int64(r.usage.completionTokens)), .int(Int64(r.usage.cacheReadTokens)),
         .int(Int64(r.usage.cacheWriteTokens)), .int(Int64(r.usage.reasoningTokens)), .bool(r.usage.estimated),
         .double(r.costUSD), .double(r.latencyMs), r.firstTokenMs.map(SQLValue.double) ?? .null, .text(r.outcome)]
    }

    public func cachedSpent(since date: Date) -> Double? {
        spentCache.withLock { totals in
            guard let entry = totals.byPeriod[date], ContinuousClock.now - entry.read < Self.spentCacheLifetime else { return nil }
            return entry.total
        }
    }

    public func spent(since date: Date) async -> Double {
        if let total = cachedSpent(since: date) { return total }
        let writesBefore = spentCache.withLock { $0.writes }
        do {
            let rows = try await database.query("SELECT COALESCE(SUM(cost_usd), 0) AS total FROM router_usage WHERE at >= $1", [.date(date)])
            let total = rows.first?.double("total") ?? 0
            spentCache.withLock { totals in
                guard totals.writes == writesBefore else { return }
                totals.byPeriod[date] = (total, .now)
                // One entry per budget period start (today, this month): keep the newest few.
                if totals.byPeriod.count > 8, let oldest = totals.byPeriod.keys.min() { totals.byPeriod[oldest] = nil }
            }
            lastKnownSpent.withLock { known in
                known[date] = total
                // One entry per budget period start (today, this month): keep the newest few.
                if known.count > 8, let oldest = known.keys.min() { known[oldest] = nil }
            }
            return total
        } catch {
            // The last total read (records queued since come on top, in UsageRecorder) beats none.
            if let lastKnown = lastKnownSpent.withLock({ $0[date] }) {
                logger.warning("usage totals unavailable; budgets use the last total read", metadata: ["error": "\(error)"])
                return lastKnown
            }
            logger.error("usage totals unavailable; budgets not enforced for this request", metadata: ["error": "\(error)"])
            return 0
        }
    }

    public func summary(groupBy: String) async -> [JSONValue] {
        let group = switch groupBy {
        case "key": "key_name"
        case "day": database.engine == .postgres ? "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD')" : "strftime('%Y-%m-%d', at, 'unixepoch')"
        default: "chosen_model"
        }
        do {
            let rows = try await database.query(
                """
                SELECT \(group) AS grp, COUNT(*) AS requests, SUM(prompt_tokens) AS prompt, SUM(completion_tokens) AS completion,
                SUM(cache_read_tokens) AS cached, SUM(cost_usd) AS cost FROM router_usage GROUP BY grp ORDER BY grp
                """)
            return rows.map { row in
                ["group": .string(row.string("grp") ?? ""), "requests": .int(Int(row.int("requests") ?? 0)),
                 "prompt_tokens": .int(Int(row.int("prompt") ?? 0)), "completion_tokens": .int(Int(row.int("completion") ?? 0)),
                 "cached_tokens": .int(Int(row.int("cached") ?? 0)), "cost_usd": .number(row.double("cost") ?? 0)]
            }
        } catch {
            logger.error("usage summary failed", metadata: ["error": "\(error)"])
            return []
        }
    }
}
