import Synchronization

/// swift-metrics handles of one series family, made once per set of dimension values and kept.
///
/// `Counter(label:dimensions:)` asks the metrics factory every time, and swift-prometheus answers
/// under its registry lock after validating and sorting the dimensions: a few microseconds per
/// call on a request's hot path (perf: half of the gateway's metric cost per tool call). The
/// handles are kept for the process's life; Prometheus keeps every series it has seen anyway, so
/// this holds nothing the registry does not.
///
/// ```swift
/// static let calls = MetricHandles(["shard", "tool"]) { Counter(label: "gateway_tool_calls_total", dimensions: $0) }
/// calls.for("fx", "echo").increment()
/// ```
public final class MetricHandles<Handle: Sendable>: Sendable {
    private let names: [String]
    private let make: @Sendable ([(String, String)]) -> Handle
    private let handles = Mutex<[[String]: Handle]>([:])

    /// `names`: the dimensions' names, in the order `for` takes their values.
    public init(_ names: [String], make: @escaping @Sendable ([(String, String)]) -> Handle) {
        // Bootstraps the registry first: a handle made before that would stay a no-op for good.
        _ = MetricsRegistry.shared
        self.names = names
        self.make = make
    }

    /// The handle for these dimension values (one per name given to `init`).
    public func `for`(_ values: String...) -> Handle {
        precondition(values.count == names.count, "MetricHandles: \(names.count) dimension values expected")
        if let handle = handles.withLock({ $0[values] }) { return handle }
        // Made outside the lock: the factory takes its own.
        let handle = make(Array(zip(names, values)))
        return handles.withLock { handles in
            if let existing = handles[values] { return existing }
            handles[values] = handle
            return handle
        }
    }
}
