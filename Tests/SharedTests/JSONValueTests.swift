import Foundation
import Testing

@testable import ServiceKit

/// JSON reading and writing with `JSONValue`: what the router sends to providers and back to clients, and the gateway reads of shards.
@Suite struct JSONValueParseTests {
    @Test func keepsBooleansNumbersAndNesting() throws {
        let value = try JSONValue.parse(#"{"t":true,"f":false,"one":1,"zero":0,"pi":3.25,"big":12345678901234,"s":"é\"x","n":null,"a":[1,true,{"k":[]}]}"#)
        guard case .object(let o) = value else { Issue.record("not an object"); return }
        #expect(o["t"] == .bool(true) && o["f"] == .bool(false))
        #expect(o["one"] == .number(1) && o["zero"] == .number(0) && o["pi"] == .number(3.25) && o["big"] == .number(12345678901234))
        #expect(o["s"] == .string("é\"x") && o["n"] == .null)
        #expect(o["a"] == .array([.number(1), .bool(true), .object(["k": .array([])])]))
        #expect(try JSONValue.parse("\"fragment\"") == .string("fragment"))
        // `intValue` drops a fraction as before; out of `Int`'s range it is nil, never a trap.
        #expect(JSONValue.number(-3.7).intValue == -3 && JSONValue.number(42).intValue == 42)
        for huge in [1e30, -1e30, 9.3e18, Double.infinity, Double.nan] { #expect(JSONValue.number(huge).intValue == nil) }
        #expect(throws: (any Error).self) { try JSONValue.parse("{nope") }
    }
}

/// `JSONValueParser` against `JSONSerialization` (the parser it replaced) on the same texts.
@Suite struct JSONValueParserTests {
    /// What the router did before: Foundation's parse, then its objects read into `JSONValue`.
    static func reference(_ text: [UInt8]) throws -> JSONValue {
        try foundation(JSONSerialization.jsonObject(with: Data(text), options: [.fragmentsAllowed]))
    }

    static func foundation(_ value: Any) throws -> JSONValue {
        switch value {
        case let object as [String: Any]: .object(try object.mapValues(foundation))
        case let text as String: .string(text)
        case let array as [Any]: .array(try array.map(foundation))
        case let number as NSNumber:
            number.objCType.pointee == CChar(UInt8(ascii: "c")) ? .bool(number.boolValue) : .number(number.doubleValue)
        case is NSNull: .null
        default: throw JSONSyntaxError(offset: 0, reason: "not JSON: \(type(of: value))")
        }
    }

    static let valid = [
        #"{}"#, #"[]"#, " \t\r\n{ \"a\" : [ 1 , 2 ] } \n", "0", "-0", "1", "-1", "12345678901234", "123456789012345678901234567890",
        "9007199254740993", "1.5", "-0.25", "1e3", "1E-3", "2.5e+10", "1e308", "4.9e-324", "0.1", "true", "false", "null",
        #""""#, #""plain""#, #""é ü 日本 😀""#, #""\"\\\/\b\f\n\r\t""#, #""\u0041\u00e9\u65e5\ud83d\ude00""#, #""\u0000 nul""#,
        #"{"a":1,"a":2}"#, #"{"":{"":[]}}"#, #"[null,true,false,0,"",[],{}]"#, "\u{FEFF}[1]",
        #"{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}],"temperature":0,"max_tokens":16,"stream":false}"#,
    ]

    @Test(arguments: valid)
    func readsWhatFoundationReads(_ text: String) throws {
        let bytes = Array(text.utf8)
        #expect(try JSONValue.parse(bytes) == Self.reference(bytes))
    }

    static let invalid = [
        "", " ", "{", "}", "[", "[,1]", #"{"a" 1}"#, #"{a:1}"#, "{'a':1}", "01", "-", "1.", ".5", "+1", "1e", "1e+",
        "--1", "0x10", "NaN", "Infinity", "tru", "nul", "falsey", "1 2", "[1] x", #""unterminated"#, #""bad \x escape""#,
        "\"raw \n newline\"", "\"tab\there\"", #""\u12""#, #""\u12G4""#, #"{"a":}"#, "[1 2]", "/* c */ 1",
    ]

    @Test(arguments: invalid)
    func refusesWhatFoundationRefuses(_ text: String) {
        let bytes = Array(text.utf8)
        #expect(throws: (any Error).self) { try Self.reference(bytes) }
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(bytes) }
    }

    /// Foundation's parser takes trailing commas (a JSON5 leniency); JSON does not, nor do we.
    @Test(arguments: ["[1,]", #"{"a":1,}"#, "[[],]"])
    func refusesTrailingCommas(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func refusesInvalidUTF8AndUnpairedSurrogates() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(bytes) }
        }
        for text in [#""\ud800""#, #""\ud800x""#, #""\udc00""#, #""\ud800\u0041""#] {
            #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(Array(text.utf8)) }
        }
    }

    @Test func limitsNestingInsteadOfOverflowingTheStack() async throws {
        let deepest = String(repeating: "[", count: JSONValueParser.maxDepth) + String(repeating: "]", count: JSONValueParser.maxDepth)
        // On a task's thread, as in the router (smaller stacks than the main thread's).
        try await Task { () throws in
            #expect(try JSONValue.parse(deepest).arrayValue != nil)
            #expect(throws: JSONSyntaxError.self) { try JSONValue.parse("[" + deepest + "]") }
            #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(String(repeating: "{\"a\":", count: 100_000)) }
        }.value
    }

    /// Random documents, written by Foundation (plain and pretty-printed) and by `JSONValue`
    /// itself: both parsers read the same value.
    @Test func readsRandomDocumentsAsFoundationDoes() throws {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<400 {
            let value = Self.randomValue(depth: 0, using: &generator)
            let foundationText = try JSONSerialization.data(withJSONObject: value.foundationObject, options: [.fragmentsAllowed])
            let prettyText = try JSONSerialization.data(withJSONObject: value.foundationObject, options: [.fragmentsAllowed, .prettyPrinted])
            for text in [Array(foundationText), Array(prettyText), Array(value.encoded())] {
                let ours = try JSONValue.parse(text)
                // Foundation's reading of a fraction can be off in the last bits; ours is exact.
                #expect(ours.nearlyEquals(try Self.reference(text)), "\(String(decoding: text, as: UTF8.self))")
                #expect(ours == value)
            }
        }
    }

    static func randomValue(depth: Int, using generator: inout SeededGenerator) -> JSONValue {
        switch Int.random(in: depth > 3 ? 0..<5 : 0..<7, using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2:
            return [
                .number(Double(Int.random(in: -1_000_000...1_000_000, using: &generator))),
                .number(Double(Int.random(in: -(1 << 52)...(1 << 52), using: &generator))),
                .number(Double.random(in: -1e6...1e6, using: &generator)), .number(Double.random(in: 0...1e-6, using: &generator)),
            ][Int.random(in: 0..<4, using: &generator)]
        case 3, 4: return .string(randomString(using: &generator))
        case 5: return .array((0..<Int.random(in: 0..<5, using: &generator)).map { _ in randomValue(depth: depth + 1, using: &generator) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0..<5, using: &generator) { members[randomString(using: &generator)] = randomValue(depth: depth + 1, using: &generator) }
            return .object(members)
        }
    }

    static func randomString(using generator: inout SeededGenerator) -> String {
        let pieces: [String] = ["a", "Z", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{1F}", "é", "日本", "😀", "\u{2028}", "\u{FFFD}", "0", "{", "]", ":", ","]
        return (0..<Int.random(in: 0..<8, using: &generator)).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &generator)] }.joined()
    }
}

/// A reproducible random sequence (SplitMix64), so a failing document can be found again.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension JSONValue {
    /// Equal, numbers within a relative 1e-12.
    func nearlyEquals(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.number(let a), .number(let b)): return a == b || abs(a - b) <= 1e-12 * max(abs(a), abs(b))
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.nearlyEquals($1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.allSatisfy { key, value in b[key].map(value.nearlyEquals) ?? false }
        default: return self == other
        }
    }

    /// The value as Foundation objects, for `JSONSerialization` to write.
    var foundationObject: Any {
        switch self {
        case .null: NSNull()
        case .bool(let flag): NSNumber(value: flag)
        case .number(let number): NSNumber(value: number)
        case .string(let text): text
        case .array(let items): items.map(\.foundationObject)
        case .object(let members): members.mapValues(\.foundationObject)
        }
    }
}

@Suite struct JSONValueWriteTests {
    @Test func writesWhatJSONEncoderWroteAndParsesBack() throws {
        let value: JSONValue = [
            "b": true, "a": [1, 2.5, "x/y", .null, false], "s": .string("quote \" back \\ nl \n tab \t bell \u{07} é 😀"),
            "n": .number(-1e-7), "big": .number(12345678901234), "huge": .number(1e300), "o": ["z": [:], "y": []],
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let ours = value.encoded()
        #expect(try JSONValue.parse(ours) == value)
        #expect(try JSONValue.parse(encoder.encode(value)) == value)
        #expect(String(decoding: ours, as: UTF8.self).hasPrefix(#"{"a":[1,2.5,"x/y",null,false],"b":true,"big":12345678901234,"#))
        #expect(JSONValue.number(.infinity).serialized() == "null")
    }
}
