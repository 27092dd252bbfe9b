/// How an MCP Streamable HTTP endpoint admits requests and keeps sessions.
public struct MCPEndpointSettings: Sendable {
    /// Origins a browser may call from (`http://host:port`, or `*`). Requests without `Origin`
    /// (every non-browser client) always pass; a present, unlisted Origin gets 403.
    public var allowedOrigins: [String]
    /// Host header values to accept; empty accepts any (Compose service names, LAN addresses).
    public var allowedHosts: [String]
    /// A session with no request for this long is closed; its next request gets 404.
    public var sessionIdleTimeout: Duration
    /// New sessions beyond this get 503 until idle ones are reaped.
    public var maxSessions: Int
    /// SSE comment sent on an idle GET stream; clients drop silent streams at 300 s.
    public var keepAliveInterval: Duration
    /// Largest request body accepted (413 beyond).
    public var maxBodyBytes: Int

    public init(
        allowedOrigins: [String] = [],
        allowedHosts: [String] = [],
        sessionIdleTimeout: Duration = .seconds(1800),
        maxSessions: Int = 1000,
        keepAliveInterval: Duration = .seconds(25),
        maxBodyBytes: Int = 4 << 20
    ) {
        self.allowedOrigins = allowedOrigins
        self.allowedHosts = allowedHosts
        self.sessionIdleTimeout = sessionIdleTimeout
        self.maxSessions = maxSessions
        self.keepAliveInterval = keepAliveInterval
        self.maxBodyBytes = maxBodyBytes
    }
}
