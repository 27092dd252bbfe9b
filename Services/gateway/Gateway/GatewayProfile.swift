import MCP

/// A client profile: one endpoint (`/v/<name>/mcp`, `/mcp` for `default`), its own tool subset,
/// tokens and name budget.
public struct GatewayProfile: Sendable {
    public static let defaultName = "default"

    public let name: String
    /// Glob patterns on `shard/tool` (e.g. `traefik/*`, `*/list_*`); empty includes everything.
    public let include: [String]
    public let exclude: [String]
    /// Only tools annotated `readOnlyHint: true` are visible.
    public let readOnly: Bool
    /// Bearer tokens accepted; empty means the profile is open.
    public let tokens: [String]
    /// What the client puts in front of every tool name (Claude Code `mcp__homelab__`, Open WebUI
    /// `<server_id>_`), so the final name fits the 64-character budget.
    public let clientPrefix: String

    public init(name: String, include: [String] = [], exclude: [String] = [], readOnly: Bool = false, tokens: [String] = [], clientPrefix: String = "") {
        self.name = name
        self.include = include
        self.exclude = exclude
        self.readOnly = readOnly
        self.tokens = tokens
        self.clientPrefix = clientPrefix
    }

    public var mcpPath: String { name == Self.defaultName ? "/mcp" : "/v/\(name)/mcp" }

    func admits(shard: String, tool: Tool) -> Bool {
        if readOnly && tool.annotations.readOnlyHint != true { return false }
        let key = shard + "/" + tool.name
        if !include.isEmpty && !include.contains(where: { Glob.matches($0, key) }) { return false }
        return !exclude.contains(where: { Glob.matches($0, key) })
    }

    func admits(shard: String, item: String) -> Bool {
        let key = shard + "/" + item
        if !include.isEmpty && !include.contains(where: { Glob.matches($0, key) }) { return false }
        return !exclude.contains(where: { Glob.matches($0, key) })
    }
}

/// `*` (any run of characters) and `?` (one character) matching, enough for tool filters.
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern.utf8), t = Array(text.utf8)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == UInt8(ascii: "?") || p[pi] == t[ti]) {
                pi += 1; ti += 1
            } else if pi < p.count && p[pi] == UInt8(ascii: "*") {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}
