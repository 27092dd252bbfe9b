/// Why JSON text was not read: where, and what was wrong there.
public struct JSONSyntaxError: Error, CustomStringConvertible, Sendable {
    /// Byte offset into the text.
    public let offset: Int
    public let reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// Reads JSON text (RFC 8259, UTF-8) straight into `JSONValue`.
///
/// Written by hand because nothing in the stack parses into a caller's own type in one pass:
/// `JSONSerialization` builds Foundation objects first (NSDictionary, NSString, NSNumber), and
/// reading those back into `JSONValue` was most of the router's JSON cost (perf at 64 requests in
/// flight: the parse plus that conversion were an eighth of the router's CPU; for the gateway's
/// shard answers, see `JSONRPCResponse`); `JSONDecoder` tries each case of an enum in turn.
/// Strict (the tests compare it with `JSONSerialization`, which takes trailing commas too): no
/// trailing commas, comments, NaN, leading zeros, unescaped control characters, unpaired
/// surrogates or invalid UTF-8; a UTF-8 byte order mark is skipped; duplicate keys keep the last
/// value; nesting deeper than `maxDepth` is an error, not a stack overflow.
struct JSONValueParser {
    static let maxDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONValueParser(bytes: bytes)
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { parser.index = 3 }
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.failure("unexpected text after the value") }
        return value
    }

    // MARK: - Values

    private mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard index < bytes.count else { throw failure("unexpected end of text") }
        switch bytes[index] {
        case Byte.openBrace: return try object(depth: depth + 1)
        case Byte.openBracket: return try array(depth: depth + 1)
        case Byte.quote: return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case Byte.minus, Byte.zero...Byte.nine: return .number(try number())
        default: throw failure("unexpected character")
        }
    }

    private mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        var members: [String: JSONValue] = [:]
        guard try open(depth: depth, closing: Byte.closeBrace) else { return .object(members) }
        repeat {
            guard index < bytes.count, bytes[index] == Byte.quote else { throw failure("expected a member name in quotes") }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == Byte.colon else { throw failure("expected ':' after a member name") }
            index += 1
            skipWhitespace()
            members[key] = try value(depth: depth)
        } while try next(closing: Byte.closeBrace)
        return .object(members)
    }

    private mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        var items: [JSONValue] = []
        guard try open(depth: depth, closing: Byte.closeBracket) else { return .array(items) }
        repeat {
            items.append(try value(depth: depth))
        } while try next(closing: Byte.closeBracket)
        return .array(items)
    }

    /// Steps into an object or array: false when it is empty (its closing bracket consumed).
    private mutating func open(depth: Int, closing: UInt8) throws(JSONSyntaxError) -> Bool {
        guard depth <= Self.maxDepth else { throw failure("nested more than \(Self.maxDepth) deep") }
        index += 1
        skipWhitespace()
        guard index < bytes.count, bytes[index] == closing else { return true }
        index += 1
        return false
    }

    /// After a member or item: true after a comma (another follows), false at the closing bracket
    /// (consumed).
    private mutating func next(closing: UInt8) throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        guard index < bytes.count else { throw failure("unexpected end of text before '\(Character(Unicode.Scalar(closing)))'") }
        switch bytes[index] {
        case Byte.comma:
            index += 1
            skipWhitespace()
            return true
        case closing:
            index += 1
            return false
        default:
            throw failure("expected ',' or '\(Character(Unicode.Scalar(closing)))'")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw failure("unexpected end of text") }
        let start = word.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] {
            throw failure("unexpected character")
        }
        index += count
    }

    // MARK: - Numbers

    private mutating func number() throws(JSONSyntaxError) -> Double {
        let start = index
        let negative = bytes[index] == Byte.minus
        if negative { index += 1 }
        guard index < bytes.count, Byte.isDigit(bytes[index]) else { throw failure("a number needs a digit") }
        var integer: Int64 = 0
        var digits = 0
        if bytes[index] == Byte.zero {
            index += 1
            digits = 1
        } else {
            while index < bytes.count, Byte.isDigit(bytes[index]) {
                if digits < 18 { integer = integer * 10 + Int64(bytes[index] - Byte.zero) }
                digits += 1
                index += 1
            }
        }
        var integral = true
        if index < bytes.count, bytes[index] == Byte.dot {
            integral = false
            index += 1
            guard index < bytes.count, Byte.isDigit(bytes[index]) else { throw failure("a fraction needs a digit") }
            while index < bytes.count, Byte.isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            integral = false
            index += 1
            if index < bytes.count, bytes[index] == Byte.plus || bytes[index] == Byte.minus { index += 1 }
            guard index < bytes.count, Byte.isDigit(bytes[index]) else { throw failure("an exponent needs a digit") }
            while index < bytes.count, Byte.isDigit(bytes[index]) { index += 1 }
        }
        // Whole numbers of up to 15 digits are exact in a Double: no text conversion.
        if integral, digits <= 15 { return negative ? -Double(integer) : Double(integer) }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let number = Double(text) else { throw failure("unreadable number") }
        return number
    }

    // MARK: - Strings

    private mutating func string() throws(JSONSyntaxError) -> String {
        index += 1
        let start = index
        // Any byte over 0x7F: the text needs UTF-8 validation (ASCII never does).
        var high: UInt8 = 0
        // Most strings have no escapes: validated and copied once.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == Byte.quote {
                let text = try utf8(UnsafeBufferPointer(rebasing: bytes[start..<index]), ascii: high < 0x80)
                index += 1
                return text
            }
            if byte == Byte.backslash { break }
            if byte < 0x20 { throw failure("control character in a string (escape it)") }
            high |= byte
            index += 1
        }
        var unescaped = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case Byte.quote:
                index += 1
                // Escapes add only valid UTF-8, so the raw bytes decide.
                return try unescaped.withUnsafeBufferPointer { buffer throws(JSONSyntaxError) in try utf8(buffer, ascii: high < 0x80) }
            case Byte.backslash:
                index += 1
                try unescape(into: &unescaped)
            case 0..<0x20:
                throw failure("control character in a string (escape it)")
            default:
                high |= byte
                unescaped.append(byte)
                index += 1
            }
        }
        throw failure("unterminated string")
    }

    /// One escape sequence after its backslash.
    private mutating func unescape(into out: inout [UInt8]) throws(JSONSyntaxError) {
        guard index < bytes.count else { throw failure("unterminated string") }
        let escaped = bytes[index]
        index += 1
        switch escaped {
        case Byte.quote, Byte.backslash, UInt8(ascii: "/"): out.append(escaped)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var code = try hex4()
            if (0xD800..<0xDC00).contains(code) {
                guard bytes.count - index >= 2, bytes[index] == Byte.backslash, bytes[index + 1] == UInt8(ascii: "u") else {
                    throw failure("unpaired surrogate in a \\u escape")
                }
                index += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate in a \\u escape") }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(code) {
                throw failure("unpaired surrogate in a \\u escape")
            }
            guard let scalar = Unicode.Scalar(code) else { throw failure("invalid \\u escape") }
            out.append(contentsOf: UTF8.encode(scalar)!)
        default:
            throw failure("invalid escape '\\\(Character(Unicode.Scalar(escaped)))'")
        }
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw failure("a \\u escape needs four hex digits") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case Byte.zero...Byte.nine: digit = byte - Byte.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("a \\u escape needs four hex digits")
            }
            code = code << 4 | UInt32(digit)
            index += 1
        }
        return code
    }

    /// The text of a string's bytes; `ascii`: none is over 0x7F, so there is nothing to validate
    /// (`String(validating:)` is generic and was most of a short string's cost).
    private func utf8(_ buffer: UnsafeBufferPointer<UInt8>, ascii: Bool) throws(JSONSyntaxError) -> String {
        if ascii { return String(decoding: buffer, as: UTF8.self) }
        guard let text = String(validating: buffer, as: UTF8.self) else { throw failure("invalid UTF-8 in a string") }
        return text
    }

    // MARK: - Helpers

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private func failure(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: index, reason: reason)
    }

    private enum Byte {
        static let openBrace = UInt8(ascii: "{"), closeBrace = UInt8(ascii: "}")
        static let openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]")
        static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        static let colon = UInt8(ascii: ":"), comma = UInt8(ascii: ",")
        static let minus = UInt8(ascii: "-"), plus = UInt8(ascii: "+"), dot = UInt8(ascii: ".")
        static let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")

        static func isDigit(_ byte: UInt8) -> Bool { byte >= zero && byte <= nine }
    }
}
