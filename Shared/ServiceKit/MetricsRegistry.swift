import Metrics
import Prometheus

/// The process's Prometheus registry, bootstrapped into swift-metrics on first use.
///
/// Lazily once per process by construction, so `main` and tests that build many applications
/// share one registry and never bootstrap `MetricsSystem` twice.
public enum MetricsRegistry {
    public static let shared: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// The Prometheus text exposition of everything recorded so far.
    public static func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(4096)
        shared.emit(into: &buffer)
        return buffer
    }
}
