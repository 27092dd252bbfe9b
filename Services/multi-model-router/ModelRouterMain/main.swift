import Foundation
import Hummingbird
import Logging
import ModelRouter
import ServiceKit

let config = ServiceConfig()
do {
    let settings = try RouterSettings(config: config)
    if let code = await ServiceCommandLine.handle(declared: RouterSettings.declared, port: settings.listen.port) { exit(code) }
    _ = try LoggingSetup.bootstrap(config: config)
    _ = MetricsRegistry.shared
    let logger = Logger(label: "multi-model-router")
    let app = try await RouterApplication.build(settings: settings, logger: logger)
    try await app.runService()
} catch let error as ConfigurationError {
    FileHandle.standardError.write(Data("multi-model-router: \(error)\n".utf8))
    exit(2)
}
