import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import ServiceKit
import ServiceLifecycle
import UnixSignals
import ShardKit
import TraefikShard

let config = ServiceConfig()
do {
    let settings = try TraefikSettings(config: config)
    if let code = await ServiceCommandLine.handle(declared: TraefikSettings.declared, port: settings.shard.listen.port) { exit(code) }
    _ = try LoggingSetup.bootstrap(config: config)
    _ = MetricsRegistry.shared
    let logger = Logger(label: "traefik-shard")
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: TraefikShard.httpClientConfiguration)
    let app = TraefikShard.build(settings: settings, http: http, logger: logger)
    // The client is listed first so that it shuts down after the app (groups stop in reverse order).
    let group = ServiceGroup(configuration: .init(
        services: [.init(service: HTTPClientService(client: http)), .init(service: app)],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
} catch let error as ConfigurationError {
    FileHandle.standardError.write(Data("traefik-shard: \(error)\n".utf8))
    exit(2)
}
