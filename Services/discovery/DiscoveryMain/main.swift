import Discovery
import Foundation
import Hummingbird
import Logging
import ServiceKit

let config = ServiceConfig()
do {
    let settings = try DiscoverySettings(config: config)
    if let code = await ServiceCommandLine.handle(declared: DiscoverySettings.declared, port: settings.listen.port) { exit(code) }
    _ = try LoggingSetup.bootstrap(config: config)
    _ = MetricsRegistry.shared
    let logger = Logger(label: "discovery")
    let app = try await DiscoveryApplication.build(settings: settings, logger: logger)
    try await app.runService()
} catch let error as ConfigurationError {
    FileHandle.standardError.write(Data("discovery: \(error)\n".utf8))
    exit(2)
}
