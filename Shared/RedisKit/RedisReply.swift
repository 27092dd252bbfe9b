import CHiredis

/// One Redis reply, copied out of hiredis' memory.
public enum RedisReply: Sendable, Equatable {
    case string(String)
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    case null
    case error(String)

    /// The text of a bulk string or status reply; nil for anything else.
    public var string: String? {
        switch self {
        case .string(let text), .status(let text): text
        default: nil
        }
    }

    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    public var array: [RedisReply]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// Copies a hiredis reply (the caller frees it).
    init(_ pointer: UnsafeMutablePointer<redisReply>) {
        let reply = pointer.pointee
        func text() -> String {
            guard let bytes = reply.str else { return "" }
            let buffer = UnsafeRawBufferPointer(start: bytes, count: reply.len)
            return String(decoding: buffer, as: UTF8.self)
        }
        switch reply.type {
        case REDIS_REPLY_STRING: self = .string(text())
        case REDIS_REPLY_STATUS: self = .status(text())
        case REDIS_REPLY_ERROR: self = .error(text())
        case REDIS_REPLY_INTEGER: self = .integer(Int64(reply.integer))
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(reply.elements)
            for index in 0..<reply.elements {
                if let element = reply.element[index] { items.append(RedisReply(element)) } else { items.append(.null) }
            }
            self = .array(items)
        default: self = .null
        }
    }
}
