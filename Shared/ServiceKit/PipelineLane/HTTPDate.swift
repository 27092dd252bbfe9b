import Foundation
import Synchronization

/// The `Date` header's value (RFC 9110: an origin server with a clock sends it on every answer) for
/// replies written outside Hummingbird's responder (`PipelineLaneHandler`), formatted at most once a second
/// like Hummingbird's own date cache (which is internal to it).
public enum HTTPDate {
    private struct Cache {
        var second = -1
        var text = ""
        /// Used only under the lock: `DateFormatter` is not thread-safe.
        let formatter: DateFormatter = {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            return formatter
        }()
    }

    private static let cache = Mutex(Cache())

    public static var now: String {
        let date = Date()
        let second = Int(date.timeIntervalSince1970)
        return cache.withLock { cache in
            if cache.second != second {
                cache.second = second
                cache.text = cache.formatter.string(from: date)
            }
            return cache.text
        }
    }
}
