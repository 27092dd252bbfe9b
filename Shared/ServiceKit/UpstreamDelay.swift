import Foundation

/// Delays an upstream asks for, read so that a misbehaving one cannot break the timers they feed:
/// `Retry-After: 1e30` or `inf` once crashed the router (a duration of 10^33 ms does not fit).
public enum UpstreamDelay {
    /// The longest delay taken from an upstream: a day.
    public static let longest: Double = 86_400

    /// A `Retry-After` header's seconds (the number form; the HTTP-date form gives nil), at most
    /// `longest`.
    public static func retryAfter(_ header: String?) -> Double? {
        guard let header, let value = Double(header.trimmingCharacters(in: .whitespaces)) else { return nil }
        return clamped(value)
    }

    /// `seconds` when it is a finite number, at most `longest` and at least 0; nil for NaN.
    public static func clamped(_ seconds: Double) -> Double? {
        guard !seconds.isNaN else { return nil }
        return min(max(seconds, 0), longest)
    }
}
