import ServiceKit
import Testing

@Suite struct SSEParserTests {
    @Test func parsesEventsSplitAcrossChunksWithCRLF() {
        var parser = SSEParser()
        let wire = "id: 1\r\nevent: message\r\ndata: {\"a\":1}\r\n\r\n: keep-alive\r\n\r\ndata: line1\r\ndata: line2\r\n\r\n"
        var events: [SSEParser.Event] = []
        // Feed one byte at a time: every split point, including inside CRLF, must work.
        for byte in wire.utf8 { events += parser.feed([byte]) }
        #expect(events == [
            .init(event: "message", id: "1", data: "{\"a\":1}"),
            .init(event: nil, id: "1", data: "line1\nline2"),
        ])
    }

    @Test func primingEventsWithEmptyDataAreSkippedAndTheLastEventIsFlushed() {
        var parser = SSEParser()
        var events = parser.feed(Array("id: 0\nretry: 1000\ndata: \n\n".utf8))
        #expect(events.isEmpty)
        events = parser.feed(Array("data: tail".utf8))
        #expect(events.isEmpty)
        #expect(parser.finish()?.data == "tail")
    }

    @Test func fieldsWithoutColonSpacesUnknownFieldsAndUTF8() {
        var parser = SSEParser()
        // "data" alone is an empty data line; only one space after the colon is dropped; an
        // unknown field and a comment are ignored; multi-byte UTF-8 survives.
        let wire = "event:update\ndata\ndata:  two spaces\nfoo: bar\n:comment\ndata: caf\u{E9} \u{1F600}\n\n"
        let events = parser.feed(Array(wire.utf8))
        #expect(events == [.init(event: "update", id: nil, data: "\n two spaces\ncaf\u{E9} \u{1F600}")])
    }

    @Test func aBareCRIsALineEndAndTheEventNameResetsButTheIDStays() {
        var parser = SSEParser()
        var events = parser.feed(Array("id: 7\revent: a\rdata: x\r\r".utf8))
        events += parser.feed(Array("data: y\n\n".utf8))
        #expect(events == [.init(event: "a", id: "7", data: "x"), .init(event: nil, id: "7", data: "y")])
    }
}
