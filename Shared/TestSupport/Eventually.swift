/// Waits until `condition` holds, checking every 100 ms for at most `limit`; whether it did.
/// For state that settles in the background (a restarted database, a queue draining).
public func eventually(within limit: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return await condition()
}
