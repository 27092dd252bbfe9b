import CHiredis
import Dispatch
import Foundation

/// One hiredis connection, used only from its own serial dispatch queue.
///
/// hiredis is a blocking C library: `redisCommandArgv` sits in `read(2)` until Redis answers. Run on
/// Swift's cooperative pool, that would pin one of its few threads (two on this machine) per call
/// and could stall every other task in the process while Redis is slow or gone. So each connection
/// owns a serial `DispatchQueue` (threads outside the cooperative pool) and callers hop there with
/// a continuation; the serial queue also gives hiredis the single-threaded use it requires.
final class RedisConnection: @unchecked Sendable {
    let configuration: RedisConfiguration
    private let queue: DispatchQueue
    /// Only touched on `queue`.
    private var context: UnsafeMutablePointer<redisContext>?

    init(configuration: RedisConfiguration, label: String) {
        self.configuration = configuration
        self.queue = DispatchQueue(label: "RedisKit.\(label)")
    }

    deinit {
        if let context { redisFree(context) }
    }

    /// Runs `body` on the connection's queue with a live context (connecting first when needed).
    func withContext<T: Sendable>(_ body: @escaping @Sendable (UnsafeMutablePointer<redisContext>) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                do {
                    let context = try self.connectedContext()
                    continuation.resume(returning: try body(context))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Like ``withContext(_:)`` but never reconnects: for a subscribed connection, whose
    /// subscriptions a silent reconnect would lose.
    func withExistingContext<T: Sendable>(_ body: @escaping @Sendable (UnsafeMutablePointer<redisContext>) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                guard let context = self.context, context.pointee.err == 0 else {
                    let reason = self.context.map(Self.errorString) ?? "not connected"
                    continuation.resume(throwing: RedisError.connection(reason))
                    return
                }
                do {
                    continuation.resume(returning: try body(context))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Closes the socket; the next call reconnects.
    func close() async {
        await withCheckedContinuation { continuation in
            queue.async {
                self.dropContext()
                continuation.resume()
            }
        }
    }

    func dropContext() {
        if let context { redisFree(context) }
        context = nil
    }

    // MARK: - On the queue

    private func connectedContext() throws -> UnsafeMutablePointer<redisContext> {
        if let context, context.pointee.err == 0 { return context }
        dropContext()
        let timeout = Self.timeval(configuration.timeout)
        guard let fresh = redisConnectWithTimeout(configuration.host, Int32(configuration.port), timeout) else {
            throw RedisError.connection("cannot allocate a hiredis context")
        }
        if fresh.pointee.err != 0 {
            let reason = Self.errorString(fresh)
            redisFree(fresh)
            throw RedisError.connection("\(configuration.host):\(configuration.port): \(reason)")
        }
        redisSetTimeout(fresh, timeout)
        context = fresh
        do {
            if let password = configuration.password {
                var auth = ["AUTH"]
                if let user = configuration.username { auth.append(user) }
                auth.append(password)
                // Never echo the reply text for AUTH beyond Redis' own message (it never contains the password).
                if case .error(let message) = try Self.execute(fresh, auth) { throw RedisError.server(message) }
            }
            if configuration.database != 0 {
                if case .error(let message) = try Self.execute(fresh, ["SELECT", String(configuration.database)]) { throw RedisError.server(message) }
            }
        } catch {
            dropContext()
            throw error
        }
        return fresh
    }

    /// Sends one command and waits for its reply (blocking; call on the queue only).
    static func execute(_ context: UnsafeMutablePointer<redisContext>, _ arguments: [String]) throws -> RedisReply {
        // Copy each argument into C memory with its byte length, so values may hold any bytes.
        let buffers: [UnsafeMutableBufferPointer<CChar>] = arguments.map { argument in
            let bytes = Array(argument.utf8)
            let buffer = UnsafeMutableBufferPointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            }
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        var pointers: [UnsafePointer<CChar>?] = buffers.map { UnsafePointer($0.baseAddress) }
        let lengths = arguments.map { $0.utf8.count }
        let raw = pointers.withUnsafeMutableBufferPointer { argv in
            lengths.withUnsafeBufferPointer { argvlen in
                redisCommandArgv(context, Int32(arguments.count), argv.baseAddress, argvlen.baseAddress)
            }
        }
        guard let raw else { throw RedisError.connection(errorString(context)) }
        defer { freeReplyObject(raw) }
        return RedisReply(raw.assumingMemoryBound(to: redisReply.self))
    }

    static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        var errstr = context.pointee.errstr
        let text = withUnsafeBytes(of: &errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? "connection lost" : text
    }

    static func timeval(_ duration: Duration) -> Foundation.timeval {
        let (seconds, attoseconds) = duration.components
        return Foundation.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
