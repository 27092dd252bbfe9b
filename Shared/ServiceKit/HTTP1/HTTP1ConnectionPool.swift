import NIOCore
import Synchronization

/// An open connection and its handler (which must only be touched on the connection's event loop).
struct HTTP1PooledConnection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<HTTP1ClientHandler>
}

/// The connections to each host and port: idle keep-alive ones (most recently used first), how
/// many are open in all, and the requests waiting for one when that many are the limit. A request
/// at the limit waits for the next connection another request releases, or for one to close so
/// it may open its own: a burst of calls to a shard never opens more than `maxPerHost` sockets.
final class HTTP1ConnectionPool: Sendable {
    /// What `checkout` found.
    enum Checkout {
        case idle(HTTP1PooledConnection)
        /// Counted as open already: connect, and call `connectFailed` if that fails.
        case connect
        /// At the limit: the future gives a released connection, or nil once the caller may
        /// connect (counted as open already, as with `.connect`).
        case wait(EventLoopFuture<HTTP1PooledConnection?>, waiterID: Int)
    }

    private struct Waiter {
        let id: Int
        let promise: EventLoopPromise<HTTP1PooledConnection?>
    }

    private struct Host {
        var idle: [HTTP1PooledConnection] = []
        /// Idle, busy and connecting.
        var open = 0
        var waiters: [Waiter] = []
    }

    private let hosts = Mutex<[String: Host]>([:])
    private let waiterCounter = Atomic<Int>(0)
    let maxIdlePerHost: Int
    let maxPerHost: Int
    let idleTimeout: TimeAmount

    init(maxIdlePerHost: Int, maxPerHost: Int, idleTimeout: TimeAmount) {
        self.maxIdlePerHost = maxIdlePerHost
        self.maxPerHost = max(1, maxPerHost)
        self.idleTimeout = idleTimeout
    }

    /// An idle connection to `key` (one on `eventLoop` when given: its caller then never leaves
    /// its thread; below the limit a new one there is preferred to one on another loop), else
    /// leave to connect, else a place in the queue. `fresh`: never an idle one.
    func checkout(_ key: String, on eventLoop: any EventLoop, preferringLoop: Bool, fresh: Bool) -> Checkout {
        hosts.withLock { hosts in
            var host = hosts.removeValue(forKey: key) ?? Host()  // edited in place, not copied
            defer { hosts[key] = host }
            host.idle.removeAll { !$0.channel.isActive }
            if !fresh {
                if preferringLoop, let index = host.idle.lastIndex(where: { $0.channel.eventLoop === eventLoop }) {
                    return .idle(host.idle.remove(at: index))
                }
                if !preferringLoop || host.open >= maxPerHost, let connection = host.idle.popLast() {
                    return .idle(connection)
                }
            }
            if host.open < maxPerHost {
                host.open += 1
                return .connect
            }
            let waiter = Waiter(id: waiterCounter.add(1, ordering: .relaxed).newValue, promise: eventLoop.makePromise())
            host.waiters.append(waiter)
            return .wait(waiter.promise.futureResult, waiterID: waiter.id)
        }
    }

    /// Takes waiter `id` out of the queue and fails it with `error`, unless it was served already.
    func stopWaiting(_ key: String, _ id: Int, with error: any Error) {
        let waiter: Waiter? = hosts.withLock { hosts in
            guard let index = hosts[key]?.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return hosts[key]?.waiters.remove(at: index)
        }
        waiter?.promise.fail(error)
    }

    /// Keeps `connection` for reuse, or hands it to the first waiting request; false when `key`
    /// already has as many idle ones as allowed (the caller closes it).
    func release(_ key: String, _ connection: HTTP1PooledConnection) -> Bool {
        let (kept, waiter): (Bool, Waiter?) = hosts.withLock { hosts in
            guard hosts[key] != nil else { return (false, nil) }
            if !hosts[key]!.waiters.isEmpty { return (true, hosts[key]!.waiters.removeFirst()) }
            guard hosts[key]!.idle.count < maxIdlePerHost else { return (false, nil) }
            hosts[key]!.idle.append(connection)
            return (true, nil)
        }
        // Completed outside the lock: its callbacks may come back here.
        waiter?.promise.succeed(connection)
        return kept
    }

    /// Forgets idle `channel` (its idle time ran out; it is closing).
    func dropIdle(_ key: String, _ channel: any Channel) {
        hosts.withLock { hosts in hosts[key]?.idle.removeAll { $0.channel === channel } }
    }

    /// `channel` closed: one connection fewer, so the first waiting request may open one.
    func closed(_ key: String, _ channel: any Channel) {
        let waiter = hosts.withLock { hosts in
            hosts[key]?.idle.removeAll { $0.channel === channel }
            return connectionGone(key, in: &hosts)
        }
        waiter?.promise.succeed(nil)
    }

    /// A connection counted by `checkout` could not be opened.
    func connectFailed(_ key: String) {
        let waiter = hosts.withLock { hosts in connectionGone(key, in: &hosts) }
        waiter?.promise.succeed(nil)
    }

    private func connectionGone(_ key: String, in hosts: inout [String: Host]) -> Waiter? {
        guard var host = hosts.removeValue(forKey: key) else { return nil }
        defer { if host.open > 0 || !host.idle.isEmpty || !host.waiters.isEmpty { hosts[key] = host } }
        host.open -= 1
        guard !host.waiters.isEmpty else { return nil }
        host.open += 1  // the waiter's own connection
        return host.waiters.removeFirst()
    }

    var idleCount: Int { hosts.withLock { $0.values.reduce(0) { $0 + $1.idle.count } } }

    /// Open connections to `key`, idle, busy or connecting.
    func openCount(_ key: String) -> Int { hosts.withLock { $0[key]?.open ?? 0 } }

    func closeAll() {
        let all = hosts.withLock { hosts in
            var all: [HTTP1PooledConnection] = []
            for key in hosts.keys {
                all += hosts[key]!.idle
                hosts[key]!.idle = []
            }
            return all
        }
        // Each close comes back through `closed`.
        for connection in all { connection.channel.close(promise: nil) }
    }
}
