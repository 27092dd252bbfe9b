import Foundation

/// Incremental `text/event-stream` parser: feed bytes (or lines) as they arrive, get complete
/// events out. The gateway reads shards' answers with it, the router providers' streams.
///
/// Written here because the SDK's SSE reader is Apple-only and the EventSource package's parser
/// is an actor fed one byte per `await`, too slow for the gateway's hot path. It handles what
/// MCP servers send: `data` (multi-line joined by `\n`), `event`, `id`, `retry`, comments, and
/// CRLF or LF line ends.
public struct SSEParser: Sendable {
    public struct Event: Sendable, Equatable {
        public var event: String?
        public var id: String?
        public var data: String

        public init(event: String?, id: String?, data: String) {
            self.event = event
            self.id = id
            self.data = data
        }
    }

    private var pending: [UInt8] = []
    private var dataLines: [String] = []
    private var eventName: String?
    private var eventID: String?

    public init() {}

    /// Adds bytes and returns the events they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Event] {
        pending.append(contentsOf: bytes)
        var events: [Event] = []
        var lineStart = 0
        var index = 0
        while index < pending.count {
            let byte = pending[index]
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                let lineEnd = index
                // CRLF counts as one line end.
                if byte == UInt8(ascii: "\r"), index + 1 < pending.count, pending[index + 1] == UInt8(ascii: "\n") {
                    index += 1
                } else if byte == UInt8(ascii: "\r"), index + 1 == pending.count {
                    break  // wait: the LF of a CRLF may be in the next chunk
                }
                if let event = process(line: pending[lineStart..<lineEnd]) { events.append(event) }
                lineStart = index + 1
            }
            index += 1
        }
        pending.removeFirst(min(lineStart, pending.count))
        return events
    }

    /// Adds one line already split off (without its line end), for callers that split lines
    /// themselves (the router: its streams are SSE or NDJSON); the event it completes, if any.
    public mutating func feed(line: [UInt8]) -> Event? {
        process(line: line[...])
    }

    /// Ends the stream; a final event without its blank line is still delivered.
    public mutating func finish() -> Event? {
        if !pending.isEmpty {
            let line = pending
            pending.removeAll()
            if let event = process(line: line[...]) { return event }
        }
        return process(line: [])
    }

    /// One line, read as bytes: only a field's value becomes a `String` (this runs for every
    /// answer a shard streams to the gateway).
    private mutating func process(line: ArraySlice<UInt8>) -> Event? {
        if line.isEmpty {
            defer { dataLines.removeAll(); eventName = nil }
            // As the SSE spec says: an event whose data is empty is not dispatched (priming events).
            let data = dataLines.count == 1 ? dataLines[0] : dataLines.joined(separator: "\n")
            guard !data.isEmpty else { return nil }
            return Event(event: eventName, id: eventID, data: data)
        }
        if line.first == UInt8(ascii: ":") { return nil }
        let field: ArraySlice<UInt8>
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = line
            value = []
        }
        if field.elementsEqual(Self.data) {
            dataLines.append(String(decoding: value, as: UTF8.self))
        } else if field.elementsEqual(Self.event) {
            eventName = String(decoding: value, as: UTF8.self)
        } else if field.elementsEqual(Self.id) {
            eventID = String(decoding: value, as: UTF8.self)
        }
        return nil
    }

    private static let data = Array("data".utf8)
    private static let event = Array("event".utf8)
    private static let id = Array("id".utf8)
}
