import Foundation

/// Finds where a member's value sits in JSON bytes, so the gateway can pass a part of a message
/// (a tool's arguments, a shard's result, a request id) through byte for byte instead of
/// re-serializing it.
///
/// Written by hand because Foundation's JSON APIs only hand out parsed values, and writing those
/// back with `JSONSerialization` bridges every dictionary to `NSDictionary` on Linux (perf: a tenth
/// of the gateway's CPU per tool call); no package in the stack slices raw JSON. Callers parse
/// the same bytes with `JSONValue.parse` first, so malformed input is rejected there; here
/// anything unexpected (bad syntax, truncation, a key spelled with escapes) just means nil.
public enum RawJSON {
    /// The bytes of the value at `path` (member names from the top-level object down), or nil.
    public static func member(_ path: String..., in data: Data) -> Data? {
        data.withUnsafeBytes { buffer -> Data? in
            let bytes = buffer.bindMemory(to: UInt8.self)
            var range = 0..<bytes.count
            for key in path {
                guard let found = memberRange(Array(key.utf8), in: bytes, within: range) else { return nil }
                range = found
            }
            return Data(UnsafeBufferPointer(rebasing: bytes[range]))
        }
    }

    /// The range of `key`'s value in the object that starts (after whitespace) at `range`.
    private static func memberRange(_ key: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, within range: Range<Int>) -> Range<Int>? {
        var i = skipWhitespace(bytes, range.lowerBound, range.upperBound)
        guard i < range.upperBound, bytes[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        while true {
            i = skipWhitespace(bytes, i, range.upperBound)
            guard i < range.upperBound, bytes[i] == UInt8(ascii: "\"") else { return nil }  // `}` or junk: not found
            guard let keyEnd = skipString(bytes, i, range.upperBound) else { return nil }
            let matches = keyEnd - i - 2 == key.count && key.indices.allSatisfy { bytes[i + 1 + $0] == key[$0] }
            i = skipWhitespace(bytes, keyEnd, range.upperBound)
            guard i < range.upperBound, bytes[i] == UInt8(ascii: ":") else { return nil }
            let valueStart = skipWhitespace(bytes, i + 1, range.upperBound)
            guard let valueEnd = skipValue(bytes, valueStart, range.upperBound) else { return nil }
            if matches { return valueStart..<valueEnd }
            i = skipWhitespace(bytes, valueEnd, range.upperBound)
            guard i < range.upperBound, bytes[i] == UInt8(ascii: ",") else { return nil }
            i += 1
        }
    }

    /// The index just past the value starting at `start`.
    private static func skipValue(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int? {
        guard start < end else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return skipString(bytes, start, end)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var i = start
            while i < end {
                switch bytes[i] {
                case UInt8(ascii: "\""):
                    guard let next = skipString(bytes, i, end) else { return nil }
                    i = next
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default:
                    break
                }
                i += 1
            }
            return nil
        default:  // number, true, false, null
            var i = start
            while i < end, !isDelimiter(bytes[i]) { i += 1 }
            return i > start ? i : nil
        }
    }

    /// The index just past the string whose opening quote is at `start`.
    private static func skipString(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int? {
        var i = start + 1
        while i < end {
            switch bytes[i] {
            case UInt8(ascii: "\\"): i += 2
            case UInt8(ascii: "\""): return i + 1
            default: i += 1
            }
        }
        return nil
    }

    private static func skipWhitespace(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        var i = start
        while i < end, isWhitespace(bytes[i]) { i += 1 }
        return i
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private static func isDelimiter(_ byte: UInt8) -> Bool {
        isWhitespace(byte) || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]")
    }
}
