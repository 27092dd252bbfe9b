import ModelRouter
import ServiceKit

await ServiceMain.run("multi-model-router", declared: RouterSettings.declared, settings: { try RouterSettings(config: $0) }, port: \.listen.port) {
    settings, logger in try await RouterApplication.build(settings: settings, logger: logger)
}
