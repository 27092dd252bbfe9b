import Foundation
import Gateway
import Hummingbird
import Logging
import ServiceKit

let config = ServiceConfig()
do {
    let settings = try GatewaySettings(config: config)
    if let code = await ServiceCommandLine.handle(declared: GatewaySettings.declared, port: settings.listen.port) { exit(code) }
    _ = try LoggingSetup.bootstrap(config: config)
    _ = MetricsRegistry.shared
    let logger = Logger(label: "gateway")
    let app = try await GatewayApplication.build(settings: settings, logger: logger)
    try await app.runService()
} catch let error as ConfigurationError {
    FileHandle.standardError.write(Data("gateway: \(error)\n".utf8))
    exit(2)
}
