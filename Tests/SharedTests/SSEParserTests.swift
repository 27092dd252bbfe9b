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
}
