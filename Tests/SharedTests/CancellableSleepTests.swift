import ServiceKit
import Synchronization
import Testing

/// The sleep behind every request timeout: it must wait, and a cancelled one must end at once.
@Suite struct CancellableSleepTests {
    @Test func sleepsAndEndsEarlyWhenCancelled() async throws {
        let clock = ContinuousClock()
        let slept = try await clock.measure { try await cancellableSleep(for: .milliseconds(50)) }
        #expect(slept >= .milliseconds(45))

        let started = clock.now
        let sleeper = Task { try await cancellableSleep(for: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(20))
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.now - started < .seconds(5))

        // A deadline that does not expire hands back the value; one that does names what timed out.
        #expect(try await withDeadline(.seconds(30)) { 42 } == 42)
        await #expect(throws: DeadlineExceeded.self) { try await withDeadline(.milliseconds(20), "the test") { try await cancellableSleep(for: .seconds(30)) } }
    }

    /// Work that ignores cancellation (the MCP SDK's pending requests) is unblocked by `onTimeout`,
    /// which has finished when the deadline error arrives; a caller's cancellation reaches the work.
    @Test(.timeLimit(.minutes(1))) func deadlineRunsOnTimeoutToUnblockWorkAndPassesCancellationOn() async throws {
        let (gate, opener) = AsyncStream<Void>.makeStream()
        let opened = Mutex(false)
        let clock = ContinuousClock()
        let started = clock.now
        await #expect(throws: DeadlineExceeded.self) {
            try await withDeadline(.milliseconds(30), "the gate", onTimeout: {
                opened.withLock { $0 = true }
                opener.finish()
            }) {
                for await _ in gate {}  // ends only when the gate is finished, whatever cancellation says
                return 1
            }
        }
        #expect(opened.withLock { $0 })
        #expect(clock.now - started < .seconds(5))

        // A value that arrives first wins, and the timer does not fire afterwards. The deadline is
        // generous: on a loaded 2-core CI machine starting the body's task once took over 50 ms.
        let late = Mutex(false)
        #expect(try await withDeadline(.milliseconds(500), onTimeout: { late.withLock { $0 = true } }) { 7 } == 7)
        try await Task.sleep(for: .milliseconds(700))
        #expect(!late.withLock { $0 })

        let caller = Task { try await withDeadline(.seconds(30)) { try await cancellableSleep(for: .seconds(30)) } }
        try await Task.sleep(for: .milliseconds(20))
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
    }
}
