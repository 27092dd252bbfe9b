import Foundation

/// A value bound to a `$1`, `$2`, ... placeholder or read from a result column, the same on both engines.
public enum SQLValue: Sendable, Equatable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case bool(Bool)
    /// `TIMESTAMPTZ` on PostgreSQL, seconds since 1970 (`REAL`) on SQLite.
    case date(Date)
    /// JSON text: bound as `JSONB` on PostgreSQL, `TEXT` on SQLite; read back as `.text`.
    case json(String)

    /// Encodes any `Encodable` as a `.json` value.
    public static func json(encoding value: some Encodable) throws -> SQLValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return .json(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// One result row: values by column name (as the query spells them, lower case on PostgreSQL).
public struct SQLRow: Sendable, Equatable {
    public var values: [String: SQLValue]

    public init(values: [String: SQLValue]) {
        self.values = values
    }

    public subscript(column: String) -> SQLValue { values[column] ?? .null }

    public func string(_ column: String) -> String? {
        switch self[column] {
        case .text(let text), .json(let text): text
        case .int(let value): String(value)
        case .double(let value): String(value)
        case .bool(let value): String(value)
        default: nil
        }
    }

    public func int(_ column: String) -> Int64? {
        switch self[column] {
        case .int(let value): value
        case .double(let value): Int64(exactly: value.rounded()) ?? nil
        case .bool(let value): value ? 1 : 0
        case .text(let text): Int64(text)
        default: nil
        }
    }

    public func double(_ column: String) -> Double? {
        switch self[column] {
        case .double(let value): value
        case .int(let value): Double(value)
        case .text(let text): Double(text)
        default: nil
        }
    }

    public func bool(_ column: String) -> Bool? {
        switch self[column] {
        case .bool(let value): value
        case .int(let value): value != 0
        default: nil
        }
    }

    /// Dates written as `.date` on either engine, or SQLite's `CURRENT_TIMESTAMP` text.
    public func date(_ column: String) -> Date? {
        switch self[column] {
        case .date(let date): return date
        case .double(let seconds): return Date(timeIntervalSince1970: seconds)
        case .int(let seconds): return Date(timeIntervalSince1970: Double(seconds))
        case .text(let text):
            if let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
            return formatter.date(from: text)
        default: return nil
        }
    }

    /// Decodes a JSON column (`.json` or JSON text).
    public func decodeJSON<T: Decodable>(_ type: T.Type, _ column: String) throws -> T? {
        guard let text = string(column) else { return nil }
        return try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
