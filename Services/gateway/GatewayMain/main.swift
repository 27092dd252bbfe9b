import Gateway
import ServiceKit

await ServiceMain.run("gateway", declared: GatewaySettings.declared, settings: GatewaySettings.init(config:), port: \.listen.port) {
    settings, logger in try await GatewayApplication.build(settings: settings, logger: logger)
}
