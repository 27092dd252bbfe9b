import MCP

/// A tool input that cannot be used; the shard kit turns it into an `isError` result that names
/// the argument, so a model can correct itself.
public struct ToolInputError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Typed, validated access to a tool call's arguments.
public struct ToolArguments: Sendable {
    public let values: [String: Value]

    public init(_ values: [String: Value]?) {
        self.values = values ?? [:]
    }

    public func string(_ name: String) throws -> String? {
        guard let value = values[name], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw ToolInputError("'\(name)' must be a string") }
        return text
    }

    public func requiredString(_ name: String) throws -> String {
        guard let text = try string(name), !text.isEmpty else { throw ToolInputError("'\(name)' is required") }
        return text
    }

    public func int(_ name: String) throws -> Int? {
        guard let value = values[name], !value.isNull else { return nil }
        if let number = value.intValue { return number }
        // `Int(exactly:)`: a whole number out of `Int`'s range (1e30) is an input error, not a trap.
        if let number = value.doubleValue, let whole = Int(exactly: number) { return whole }
        throw ToolInputError("'\(name)' must be a whole number between \(Int.min) and \(Int.max)")
    }

    /// A whole number within the bounds the tool's schema declares (the SDK does not check them).
    public func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let number = try int(name) else { return nil }
        guard range.contains(number) else { throw ToolInputError("'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound)") }
        return number
    }

    public func double(_ name: String) throws -> Double? {
        guard let value = values[name], !value.isNull else { return nil }
        if let number = value.doubleValue { return number }
        if let number = value.intValue { return Double(number) }
        throw ToolInputError("'\(name)' must be a number")
    }

    public func bool(_ name: String, default defaultValue: Bool) throws -> Bool {
        guard let value = values[name], !value.isNull else { return defaultValue }
        guard let flag = value.boolValue else { throw ToolInputError("'\(name)' must be true or false") }
        return flag
    }

    /// A list of strings; a single string is accepted as a one-element list.
    public func strings(_ name: String) throws -> [String] {
        guard let value = values[name], !value.isNull else { return [] }
        if let text = value.stringValue { return [text] }
        guard let array = value.arrayValue else { throw ToolInputError("'\(name)' must be a list of strings") }
        return try array.map { element in
            guard let text = element.stringValue else { throw ToolInputError("'\(name)' must contain only strings") }
            return text
        }
    }
}
