import NIOCore
import Synchronization

/// An open connection and its handler (which must only be touched on the connection's event loop).
struct HTTP1PooledConnection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<HTTP1ClientHandler>
}

/// Idle keep-alive connections by host and port, most recently used first.
final class HTTP1ConnectionPool: Sendable {
    private let idle = Mutex<[String: [HTTP1PooledConnection]]>([:])
    let maxIdlePerHost: Int
    let idleTimeout: TimeAmount

    init(maxIdlePerHost: Int, idleTimeout: TimeAmount) {
        self.maxIdlePerHost = maxIdlePerHost
        self.idleTimeout = idleTimeout
    }

    /// An idle connection to `key`, if one is still open.
    func take(_ key: String) -> HTTP1PooledConnection? {
        idle.withLock { connections in
            while let connection = connections[key]?.popLast() {
                if connection.channel.isActive { return connection }
            }
            return nil
        }
    }

    /// An idle connection to `key` on `eventLoop`, if one is open: its caller then never leaves
    /// its thread.
    func take(_ key: String, on eventLoop: any EventLoop) -> HTTP1PooledConnection? {
        idle.withLock { connections in
            guard var list = connections[key] else { return nil }
            connections[key] = nil  // so the edits below do not copy the array
            defer { connections[key] = list.isEmpty ? nil : list }
            list.removeAll { !$0.channel.isActive }
            guard let index = list.lastIndex(where: { $0.channel.eventLoop === eventLoop }) else { return nil }
            return list.remove(at: index)
        }
    }

    /// Keeps `connection` for reuse; false when `key` already has as many idle ones as allowed.
    func release(_ key: String, _ connection: HTTP1PooledConnection) -> Bool {
        idle.withLock { connections in
            guard connections[key, default: []].count < maxIdlePerHost else { return false }
            connections[key, default: []].append(connection)
            return true
        }
    }

    /// Forgets `channel` (it closed, or its idle time ran out).
    func remove(_ key: String, _ channel: any Channel) {
        idle.withLock { connections in
            connections[key]?.removeAll { $0.channel === channel }
            if connections[key]?.isEmpty == true { connections[key] = nil }
        }
    }

    var idleCount: Int { idle.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    func closeAll() {
        let all = idle.withLock { connections in
            defer { connections = [:] }
            return connections.values.flatMap { $0 }
        }
        for connection in all { connection.channel.close(promise: nil) }
    }
}
