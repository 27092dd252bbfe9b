import AsyncHTTPClient

extension HTTPClient {
    /// The client the suite's services share: AsyncHTTPClient's `shared` settings without
    /// tracing, and up to `maxHTTP1ConnectionsPerHost` HTTP/1.1 connections to one host.
    /// Never shut down, like `shared`: it lives as long as the process.
    ///
    /// Why not the defaults: the suite exports no traces, yet with the default no-op tracer the
    /// client still builds every request's span attributes (URL, method, sizes): about 2 % of the
    /// router's CPU. And AsyncHTTPClient opens at most 8 HTTP/1.1 connections to a host and queues
    /// the rest: a chat stream holds its connection for minutes, so the ninth chat to an
    /// `https://` upstream that speaks only HTTP/1.1 (an Ollama behind a TLS proxy) would wait for
    /// one of them to end. (HTTP/2 upstreams, the cloud APIs, multiplex on one connection.)
    public static let suite: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.tracing.tracer = nil
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = maxHTTP1ConnectionsPerHost
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public static let maxHTTP1ConnectionsPerHost = 64
}
