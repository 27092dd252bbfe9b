import Discovery
import ServiceKit

await ServiceMain.run("discovery", declared: DiscoverySettings.declared, settings: DiscoverySettings.init(config:), port: \.listen.port) {
    settings, logger in try await DiscoveryApplication.build(settings: settings, logger: logger)
}
