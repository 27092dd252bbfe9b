import Hummingbird

/// `HOST` and `PORT`, read the same way by every service.
public struct ListenSettings: Sendable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(config: ServiceConfig, defaultPort: Int) throws {
        self.host = config.string("HOST", default: "127.0.0.1")
        self.port = try config.int("PORT", default: defaultPort, range: 0...65535)
    }

    public var applicationConfiguration: ApplicationConfiguration {
        ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil)
    }
}
