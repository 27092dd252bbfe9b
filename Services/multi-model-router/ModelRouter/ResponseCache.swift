import Foundation
import Synchronization
import ServiceKit

/// Exact-match cache for deterministic (temperature 0, non-streaming) answers.
public protocol ResponseCache: Sendable {
    func get(_ key: String) async -> String?
    func set(_ key: String, _ value: String, ttl: Double) async
}

/// A cache read and written without waiting: the pipeline lane (`ChatLane`) uses it from the
/// event loop; one in Redis is not.
public protocol ImmediateResponseCache: ResponseCache {
    func cachedNow(_ key: String) -> String?
    func storeNow(_ key: String, _ value: String, ttl: Double)
}

/// In-process cache bounded by entry count, oldest evicted first, entries expire after their TTL.
public final class InMemoryResponseCache: ImmediateResponseCache {
    private struct Entry { var value: String; var expires: ContinuousClock.Instant }
    private struct State { var entries: [String: Entry] = [:]; var order: [String] = [] }
    private let state = Mutex(State())
    private let maxEntries: Int

    public init(maxEntries: Int) { self.maxEntries = max(1, maxEntries) }

    public func get(_ key: String) async -> String? {
        cachedNow(key)
    }

    public func set(_ key: String, _ value: String, ttl: Double) async {
        storeNow(key, value, ttl: ttl)
    }

    public func cachedNow(_ key: String) -> String? {
        state.withLock { s in
            guard let e = s.entries[key] else { return nil }
            if e.expires < .now { s.entries[key] = nil; return nil }
            return e.value
        }
    }

    public func storeNow(_ key: String, _ value: String, ttl: Double) {
        state.withLock { s in
            if s.entries.updateValue(Entry(value: value, expires: .now + .milliseconds(Int64(ttl * 1000))), forKey: key) == nil {
                s.order.append(key)
            }
            while s.order.count > maxEntries {
                s.entries[s.order.removeFirst()] = nil
            }
        }
    }
}

enum CacheKey {
    /// Stable across processes (the cache may be shared in Redis): FNV-1a over the canonical request.
    static func make(target: String, body: JSONValue) -> String? {
        guard body["stream"]?.boolValue != true, body["temperature"]?.doubleValue == 0, (body["n"]?.intValue ?? 1) == 1 else { return nil }
        var hash: UInt64 = 0xcbf29ce484222325
        var second: UInt64 = 0x84222325cbf29ce4
        for byte in (target + "\n" + body.serialized()).utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100000001b3
            second = (second ^ UInt64(byte)) &* 0x100000001b3 &+ 1
        }
        return "router:cache:" + String(hash, radix: 16) + String(second, radix: 16)
    }
}
