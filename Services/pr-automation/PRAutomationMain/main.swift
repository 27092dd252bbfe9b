import PRAutomation
import ServiceKit

await ServiceMain.run("pr-automation", declared: PRAutomationSettings.declared, settings: PRAutomationSettings.init(config:), port: \.listen.port) {
    settings, logger in try await PRAutomationApplication.build(settings: settings, logger: logger)
}
