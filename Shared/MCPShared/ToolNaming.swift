/// Names tools the way every LLM API accepts them.
///
/// OpenAI and Anthropic accept function names matching `^[a-zA-Z0-9_-]{1,64}$`; MCP allows dots and
/// 128 characters. Clients add their own prefix (Claude Code `mcp__<server>__`, Open WebUI
/// `<server_id>_`), so the gateway checks the *final* name against the budget.
public enum ToolNaming {
    /// The limit OpenAI and Anthropic put on function names.
    public static let maximumLength = 64

    /// True when `name` is a legal LLM function name on its own.
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= maximumLength && name.utf8.allSatisfy(isAllowed)
    }

    /// `<shard>_<tool>`, sanitised, and shortened deterministically so that `clientPrefix + name`
    /// fits `maximumLength`.
    ///
    /// Shortening keeps the start of the name and replaces the tail with `-` and an 8-hex-digit
    /// hash of the full name, so the same inputs always give the same output and two long names
    /// that share a start still differ.
    public static func qualifiedName(shard: String, tool: String, clientPrefixLength: Int = 0) -> String {
        let full = sanitize(shard) + "_" + sanitize(tool)
        let budget = max(maximumLength - clientPrefixLength, 12)
        guard full.utf8.count > budget else { return full }
        let suffix = "-" + hexHash(full)
        return String(full.prefix(budget - suffix.count)) + suffix
    }

    /// Replaces every character outside `[A-Za-z0-9_-]` (dots, colons, spaces, non-ASCII) with `_`.
    public static func sanitize(_ name: String) -> String {
        let cleaned = String(decoding: name.utf8.map { isAllowed($0) ? $0 : UInt8(ascii: "_") }, as: UTF8.self)
        return cleaned.isEmpty ? "_" : cleaned
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// FNV-1a, 32 bits. Written here because names must hash the same in every process and
    /// release (Swift's `Hasher` is seeded per process) and this module stays free of crypto.
    static func hexHash(_ text: String) -> String {
        var hash: UInt32 = 0x811C_9DC5
        for byte in text.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }
}
