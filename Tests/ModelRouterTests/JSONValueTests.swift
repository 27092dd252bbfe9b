import Foundation
import Testing

@testable import ModelRouter

/// The router's own JSON reading and writing: what goes to providers and back to clients.
@Suite struct JSONValueParseTests {
    @Test func keepsBooleansNumbersAndNesting() throws {
        let value = try JSONValue.parse(#"{"t":true,"f":false,"one":1,"zero":0,"pi":3.25,"big":12345678901234,"s":"é\"x","n":null,"a":[1,true,{"k":[]}]}"#)
        guard case .object(let o) = value else { Issue.record("not an object"); return }
        #expect(o["t"] == .bool(true) && o["f"] == .bool(false))
        #expect(o["one"] == .number(1) && o["zero"] == .number(0) && o["pi"] == .number(3.25) && o["big"] == .number(12345678901234))
        #expect(o["s"] == .string("é\"x") && o["n"] == .null)
        #expect(o["a"] == .array([.number(1), .bool(true), .object(["k": .array([])])]))
        #expect(try JSONValue.parse("\"fragment\"") == .string("fragment"))
        #expect(throws: (any Error).self) { try JSONValue.parse("{nope") }
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
