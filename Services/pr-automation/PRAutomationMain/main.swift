import Foundation
import Hummingbird
import Logging
import PRAutomation
import ServiceKit

let config = ServiceConfig()
do {
    let settings = try PRAutomationSettings(config: config)
    if let code = await ServiceCommandLine.handle(declared: PRAutomationSettings.declared, port: settings.listen.port) { exit(code) }
    _ = try LoggingSetup.bootstrap(config: config)
    _ = MetricsRegistry.shared
    let logger = Logger(label: "pr-automation")
    let app = try await PRAutomationApplication.build(settings: settings, logger: logger)
    try await app.runService()
} catch let error as ConfigurationError {
    FileHandle.standardError.write(Data("pr-automation: \(error)\n".utf8))
    exit(2)
}
