import Foundation
import Logging
import ServiceLifecycle
import StorageKit
import Testing
import TestSupport
import ServiceKit

@testable import ModelRouter

@Suite struct UsageTests {
    func record(cost: Double, model: String = "m", key: String = "k") -> UsageRecord {
        UsageRecord(time: Date(), keyName: key, requestedModel: model, chosenModel: model, reason: "r",
                    usage: TokenUsage(promptTokens: 10, completionTokens: 2), costUSD: cost, latencyMs: 1, firstTokenMs: nil, outcome: "ok")
    }

    @Test func recorderCountsQueuedCostAtOnceAndWritesInTheBackground() async throws {
        let store = InMemoryUsageStore()
        let recorder = UsageRecorder(store: store)
        await recorder.record(record(cost: 1.5))
        #expect(await store.spent(since: .distantPast) == 0)
        #expect(await recorder.spent(since: .distantPast) == 1.5)
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await recorder.run() }
            let summary = await recorder.summary(groupBy: "model")
            #expect(summary.first?["requests"] == 1)
            #expect(await store.spent(since: .distantPast) == 1.5)
            #expect(await recorder.spent(since: .distantPast) == 1.5)
            group.cancelAll()
        }
    }

    /// A burst queued while the writer is busy lands in a few multi-row INSERTs, on both engines,
    /// with nothing lost or doubled.
    @Test(arguments: ["sqlite", "postgres"]) func burstsAreWrittenInBatchesToARealDatabase(engine: String) async throws {
        let logger = Logger(label: "test")
        let postgres = engine == "postgres" ? try await LocalPostgres.start() : nil
        defer { postgres?.stop() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("usage-\(UUID().uuidString).sqlite").path
        let database = try Storage.open(databaseURL: postgres?.url, sqlitePath: path, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await database.run() }
            try await database.migrate(SQLUsageStore.migrations, logger: logger)
            let recorder = UsageRecorder(store: SQLUsageStore(database: database, logger: logger))
            for i in 0..<120 { await recorder.record(record(cost: 0.01, key: "k\(i % 3)")) }
            #expect(abs(await recorder.spent(since: .distantPast) - 1.2) < 1e-9)
            group.addTask { try await recorder.run() }
            let groups = await recorder.summary(groupBy: "key")
            #expect(groups.map { $0["group"] } == ["k0", "k1", "k2"])
            #expect(groups.map { $0["requests"] } == [40, 40, 40])
            let rows = try await database.query("SELECT count(*) AS n, CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS p FROM router_usage")
            #expect(rows.first?.int("n") == 120 && rows.first?.int("p") == 1200)
            group.cancelAll()
        }
    }

    /// Records that arrive while PostgreSQL is down are kept, still count towards budgets, and are
    /// written once it is back: none lost, none doubled.
    @Test func recordsSurviveADatabaseOutage() async throws {
        let logger = Logger(label: "test")
        let postgres = try await LocalPostgres.start()
        defer { postgres.stop() }
        let database = try PostgresDatabase(url: postgres.url, logger: logger, queryTimeout: .seconds(1))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            try await database.migrate(SQLUsageStore.migrations, logger: logger)
            let recorder = UsageRecorder(store: SQLUsageStore(database: database, logger: logger))
            group.addTask { try await recorder.run() }
            await recorder.record(record(cost: 0.5))
            #expect(await eventually { (try? await database.query("SELECT count(*) AS n FROM router_usage"))?.first?.int("n") == 1 })
            #expect(await recorder.spent(since: .distantPast) == 0.5)

            postgres.stop()
            for _ in 0..<60 { await recorder.record(record(cost: 0.01)) }
            try await Task.sleep(for: .milliseconds(1500))  // at least one failed write
            // Budgets still see everything: the last total read plus what waits in the queue.
            #expect(abs(await recorder.spent(since: .distantPast) - 1.1) < 1e-9)

            try await postgres.start()
            #expect(await eventually(within: .seconds(30)) { (try? await database.query("SELECT count(*) AS n FROM router_usage"))?.first?.int("n") == 61 })
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await database.query("SELECT count(*) AS n FROM router_usage").first?.int("n") == 61)
            #expect(abs(await recorder.spent(since: .distantPast) - 1.1) < 1e-9)
            group.cancelAll()
        }
    }

    @Test func budgetsCompareTodaysSpendWithTheCap() async throws {
        let store = InMemoryUsageStore()
        var config = RouterConfig()
        #expect(await BudgetCheck.exceeded(config: config, store: store) == false)
        config.dailyBudgetUSD = 1
        await store.record(record(cost: 0.6))
        #expect(await BudgetCheck.exceeded(config: config, store: store) == false)
        await store.record(record(cost: 0.6))
        #expect(await BudgetCheck.exceeded(config: config, store: store) == true)
    }

    /// The fast lane checks budgets without a query: a period's total is known once read (for a
    /// second), with what this router queues and writes added at once; unknown or stale, it is nil.
    @Test func budgetTotalsAreKnownWithoutAQueryOnceRead() async throws {
        let logger = Logger(label: "test")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("usage-\(UUID().uuidString).sqlite").path
        let database = try Storage.open(databaseURL: nil, sqlitePath: path, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await database.run() }
            try await database.migrate(SQLUsageStore.migrations, logger: logger)
            let store = SQLUsageStore(database: database, logger: logger)
            let recorder = UsageRecorder(store: store, flushInterval: .milliseconds(10))
            let today = Calendar.current.startOfDay(for: Date())
            var config = RouterConfig()
            config.dailyBudgetUSD = 1
            #expect(recorder.spentNow(since: today) == nil)
            #expect(BudgetCheck.exceededNow(config: config, store: recorder) == nil)
            _ = await BudgetCheck.exceeded(config: config, store: recorder)
            let start = BudgetCheck.periods(config: config, now: Date())[0].start
            #expect(recorder.spentNow(since: start) == 0)
            recorder.recordNow(record(cost: 0.75))
            #expect(recorder.spentNow(since: start) == 0.75)
            #expect(BudgetCheck.exceededNow(config: config, store: recorder) == false)
            group.addTask { try await recorder.run() }
            _ = await recorder.summary(groupBy: "model")  // waits until written
            #expect(store.cachedSpent(since: start) == 0.75)
            recorder.recordNow(record(cost: 0.5))
            #expect(BudgetCheck.exceededNow(config: config, store: recorder) == true)
            try await Task.sleep(for: SQLUsageStore.spentCacheLifetime + .milliseconds(100))
            #expect(recorder.spentNow(since: start) == nil)
            #expect(abs(await recorder.spent(since: start) - 1.25) < 1e-9)
            group.cancelAll()
        }
    }

    @Test func summaryGroupsByKey() async {
        let store = InMemoryUsageStore()
        await store.record(record(cost: 1, key: "a"))
        await store.record(record(cost: 2, key: "b"))
        await store.record(record(cost: 3, key: "b"))
        let groups = await store.summary(groupBy: "key")
        #expect(groups.map { $0["group"] } == ["a", "b"])
        #expect(groups.map { $0["cost_usd"] } == [1, 5])
    }
}
