import MCP

/// Errors a client of the gateway sees, as JSON-RPC errors with a message a person understands.
enum GatewayError {
    static func unknownTool(_ name: String) -> MCPError {
        .invalidParams("Unknown tool '\(name)'. Call tools/list for the tools available now.")
    }

    static func shardUnavailable(_ shard: String, detail: String?) -> MCPError {
        .serverError(code: -32002, message: "Shard '\(shard)' is unavailable\(detail.map { ": \($0)" } ?? ""); its tools are hidden until it recovers.")
    }

    static func timedOut(_ tool: String, after timeout: Duration) -> MCPError {
        .serverError(code: -32001, message: "Tool '\(tool)' did not answer within \(timeout.components.seconds) s; the call was cancelled.")
    }

    static func shardFailed(_ shard: String, _ error: any Error) -> MCPError {
        if let mcpError = error as? MCPError {
            // The shard's own JSON-RPC error (bad params, unknown tool) passes through as it is.
            switch mcpError {
            case .connectionClosed, .transportError: break
            default: return mcpError
            }
        }
        return .serverError(code: -32002, message: "Shard '\(shard)' failed to answer: \(error)")
    }
}
