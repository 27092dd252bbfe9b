import Foundation
import Testing

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
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await recorder.run() }
            let summary = await recorder.summary(groupBy: "model")
            #expect(summary.first?["requests"] == 1)
            #expect(await store.spent(since: .distantPast) == 1.5)
            #expect(await recorder.spent(since: .distantPast) == 1.5)
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
