import NIOCore
import ServiceKit
import Testing

@Suite struct ByteSearchTests {
    /// Agrees with a plain search on every placement: start, end, after a false start that shares
    /// the first byte, overlapping prefixes, and a buffer whose reader index is not at zero.
    @Test func findsWhatANaiveSearchFinds() {
        let needle = Array("tools/call".utf8)
        let haystacks = ["tools/call", "xtools/call", "tools/cal", "ttools/call", "tools/tools/call", "{\"method\":\"tools/call\"}",
                         "tools/calL", "", "t", "to tools/c all", String(repeating: "tools/cal", count: 50) + "tools/call"]
        for text in haystacks {
            let expected = Array(text.utf8).firstRange(of: needle) != nil
            #expect(ByteSearch.contains(needle, in: ByteBuffer(string: text)) == expected, "\(text)")
            var shifted = ByteBuffer(string: "tools/call" + text)
            shifted.moveReaderIndex(forwardBy: 10)
            #expect(ByteSearch.contains(needle, in: shifted) == expected, "shifted \(text)")
        }
        #expect(ByteSearch.contains([], in: ByteBuffer()))
    }
}
