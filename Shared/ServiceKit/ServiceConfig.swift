import Configuration
import Foundation

/// A configuration variable that could not be used, named the way the user set it.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let variable: String
    public let reason: String

    public init(variable: String, reason: String) {
        self.variable = variable
        self.reason = reason
    }

    public var description: String { "configuration error: \(variable) \(reason)" }
}

/// Typed access to a service's settings by their environment-variable names.
///
/// Values come from swift-configuration (environment, then an optional `.env` file, then the
/// defaults given at each call). A value that is set but cannot be used throws a
/// ``ConfigurationError`` naming the variable, so a service refuses to start with a clear line
/// instead of silently falling back to a default. Secrets can also come from `<NAME>_FILE`.
///
/// ```swift
/// let config = ServiceConfig()                       // process environment
/// let port = try config.int("PORT", default: 9100)
/// ```
public struct ServiceConfig: Sendable {
    public let reader: ConfigReader

    /// Reads the process environment (or `environment` in tests).
    public init(environment: [String: String]? = nil) {
        let provider = environment.map { EnvironmentVariablesProvider(environmentVariables: $0) }
            ?? EnvironmentVariablesProvider()
        self.reader = ConfigReader(provider: provider)
    }

    public init(reader: ConfigReader) {
        self.reader = reader
    }

    /// `GATEWAY_PROBE_INTERVAL` → key `gateway.probe.interval`, which the environment provider
    /// maps back to the same variable.
    static func key(_ variable: String) -> ConfigKey {
        ConfigKey(variable.lowercased().split(separator: "_").map(String.init))
    }

    /// The raw text of a variable; empty counts as unset (Compose passes `VAR=` for blanks).
    public func raw(_ variable: String, isSecret: Bool = false) -> String? {
        guard let value = reader.string(forKey: Self.key(variable), isSecret: isSecret) else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    public func string(_ variable: String, default defaultValue: String) -> String {
        raw(variable) ?? defaultValue
    }

    public func string(_ variable: String) -> String? {
        raw(variable)
    }

    public func int(_ variable: String, default defaultValue: Int, range: ClosedRange<Int>? = nil) throws -> Int {
        guard let text = raw(variable) else { return defaultValue }
        guard let value = Int(text) else {
            throw ConfigurationError(variable: variable, reason: "must be a whole number, got '\(text)'")
        }
        if let range, !range.contains(value) {
            throw ConfigurationError(variable: variable, reason: "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    /// ``seconds(_:default:)`` as a `Duration` (millisecond precision), for timeouts and intervals.
    public func duration(_ variable: String, defaultSeconds: Double) throws -> Duration {
        .milliseconds(Int64((try seconds(variable, default: defaultSeconds) * 1000).rounded()))
    }

    /// A duration in seconds; accepts `15`, `1.5`, `15s`, `500ms`, `2m`.
    public func seconds(_ variable: String, default defaultValue: Double) throws -> Double {
        guard let text = raw(variable) else { return defaultValue }
        // At most a billion seconds (31 years): larger ones overflow the timers they become.
        guard let value = Self.parseSeconds(text), value >= 0, value <= 1e9 else {
            throw ConfigurationError(variable: variable, reason: "must be a duration like 15, 15s, 500ms or 2m (at most 1e9 s), got '\(text)'")
        }
        return value
    }

    public func bool(_ variable: String, default defaultValue: Bool) throws -> Bool {
        guard let text = raw(variable)?.lowercased() else { return defaultValue }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(variable: variable, reason: "must be true or false, got '\(text)'")
        }
    }

    /// A comma-separated list, blanks dropped.
    public func list(_ variable: String) -> [String] {
        guard let text = raw(variable) else { return [] }
        return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A secret from `NAME`, or from the file named by `NAME_FILE` (Compose and Kubernetes secrets).
    /// The value never appears in errors.
    public func secret(_ variable: String) throws -> String? {
        if let value = raw(variable, isSecret: true) { return value }
        guard let path = raw(variable + "_FILE") else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(variable: variable + "_FILE", reason: "names a file that cannot be read: \(path)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func choice<T: RawRepresentable & CaseIterable>(_ variable: String, default defaultValue: T) throws -> T where T.RawValue == String {
        guard let text = raw(variable) else { return defaultValue }
        guard let value = T(rawValue: text.lowercased()) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(variable: variable, reason: "must be one of \(allowed), got '\(text)'")
        }
        return value
    }

    static func parseSeconds(_ text: String) -> Double? {
        let lower = text.lowercased()
        if lower.hasSuffix("ms") { return Double(lower.dropLast(2)).map { $0 / 1000 } }
        if lower.hasSuffix("s") { return Double(lower.dropLast()) }
        if lower.hasSuffix("m") { return Double(lower.dropLast()).map { $0 * 60 } }
        if lower.hasSuffix("h") { return Double(lower.dropLast()).map { $0 * 3600 } }
        return Double(lower)
    }
}
