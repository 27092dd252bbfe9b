extension Duration {
    /// The duration in seconds, for JSON fields, headers and metrics.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }

    /// The duration in milliseconds, for latency fields (`latency_ms`).
    public var milliseconds: Double { seconds * 1000 }
}
