import ServiceKit
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
}
