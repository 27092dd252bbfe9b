import ServiceLifecycle

/// Re-probes every shard on a schedule, so a shard that dies disappears and one that recovers
/// comes back without restarting the gateway.
struct ProbeService: Service {
    let catalog: Catalog
    let interval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await catalog.probeAll()
                try? await Task.sleep(for: interval)
            }
        }
    }
}
