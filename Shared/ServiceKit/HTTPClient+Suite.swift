import AsyncHTTPClient

extension HTTPClient {
    /// The client the suite's services share: AsyncHTTPClient's `shared` settings without
    /// tracing. The suite exports no traces, yet with the default no-op tracer the client still
    /// builds every request's span attributes (URL, method, sizes): about 2 % of the router's CPU.
    /// Never shut down, like `shared`: it lives as long as the process.
    public static let suite: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}
