import Hummingbird
import NIOCore
import ServiceKit

/// The gateway's request context: Hummingbird's basics plus the peer address, which decides
/// whether forwarded identity headers (`X-OpenWebUI-User-*`) are trusted, and the connection's
/// `ClientDisconnect`, which cancels a stateless-era call whose client went away.
public struct GatewayRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public let disconnect: ClientDisconnect?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.disconnect = ClientDisconnect.watcher(for: source.channel)
    }
}
