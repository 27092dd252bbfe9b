/// A piece of work that did not finish in time.
public struct DeadlineExceeded: Error, CustomStringConvertible, Sendable {
    public let what: String
    public let limit: Duration

    public var description: String { "\(what) within \(limit)" }
}

/// Runs `body`, giving up with ``DeadlineExceeded`` after `limit`.
///
/// `onTimeout` runs before the task group waits for `body` to wind down, so it can unblock work
/// that ignores cancellation (the MCP SDK's pending requests resume only when their client is
/// disconnected).
public func withDeadline<T: Sendable>(
    _ limit: Duration, _ what: String = "no answer", onTimeout: @escaping @Sendable () async -> Void = {},
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await cancellableSleep(for: limit)
            throw DeadlineExceeded(what: what, limit: limit)
        }
        do {
            let value = try await group.next()!
            group.cancelAll()
            return value
        } catch {
            group.cancelAll()
            if error is DeadlineExceeded { await onTimeout() }
            throw error
        }
    }
}
