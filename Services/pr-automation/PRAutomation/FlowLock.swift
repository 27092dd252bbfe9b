/// Runs one flow at a time, first come first served. An actor alone does not serialise: its
/// methods interleave at every `await`, and a PR flow awaits GitHub many times.
actor FlowLock {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        do {
            let value = try await body()
            release()
            return value
        } catch {
            release()
            throw error
        }
    }

    private func acquire() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            busy = false
        } else {
            // Hand the lock straight to the next waiter; busy stays true.
            waiters.removeFirst().resume()
        }
    }
}
