import Hummingbird
import HummingbirdCore
import NIOCore
import Synchronization

/// Tells a request handler that its client has gone away, so long work for it can be cancelled.
///
/// Hummingbird does not cancel a handler when the client closes the connection (it allows
/// half-closed connections), and a handler that is not reading the request body cannot see it.
/// This handler sits in each connection's pipeline (`ClientDisconnect.serverConfiguration`) and
/// notices the connection's input closing or the connection dropping. MCP 2026-07-28 makes
/// closing a request's response stream the way a client cancels it.
///
/// ```swift
/// // in a RequestContext's init(source:):
/// self.disconnect = ClientDisconnect.watcher(for: source.channel)
/// // in a handler:
/// let result = try await context.disconnect?.cancellingOnDisconnect { try await slowWork() }
/// ```
public final class ClientDisconnect: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    public typealias InboundIn = NIOAny

    /// Every watched connection's watcher, by channel: request contexts are built off the event
    /// loop, where the channel's pipeline cannot be searched synchronously.
    private static let watchers = Mutex<[ObjectIdentifier: ClientDisconnect]>([:])

    private struct State {
        var gone = false
        var nextID = 0
        var callbacks: [Int: @Sendable () -> Void] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    /// An HTTP/1 server that watches every connection.
    public static var http1Server: HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [ClientDisconnect()]))
    }

    /// The watcher of `channel`'s connection, if the server was configured with one.
    public static func watcher(for channel: any Channel) -> ClientDisconnect? {
        watchers.withLock { $0[ObjectIdentifier(channel)] }
    }

    /// Runs `operation` in a task of its own and cancels that task when the client goes away
    /// before it ends (or when the caller is cancelled).
    public func cancellingOnDisconnect<Value: Sendable>(_ operation: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let task = Task { try await operation() }
        let id = onDisconnect { task.cancel() }
        defer { state.withLock { _ = $0.callbacks.removeValue(forKey: id) } }
        return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }

    /// Runs `callback` once when the client goes away (at once if it already has).
    func onDisconnect(_ callback: @escaping @Sendable () -> Void) -> Int {
        let (id, gone) = state.withLock { state -> (Int, Bool) in
            state.nextID += 1
            if !state.gone { state.callbacks[state.nextID] = callback }
            return (state.nextID, state.gone)
        }
        if gone { callback() }
        return id
    }

    private func clientWentAway() {
        let callbacks = state.withLock { state -> [@Sendable () -> Void] in
            state.gone = true
            defer { state.callbacks.removeAll() }
            return Array(state.callbacks.values)
        }
        for callback in callbacks { callback() }
    }

    // MARK: - ChannelInboundHandler

    public func handlerAdded(context: ChannelHandlerContext) {
        Self.watchers.withLock { $0[ObjectIdentifier(context.channel)] = self }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        Self.watchers.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(context.channel)) }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .some(.inputClosed) = event as? ChannelEvent { clientWentAway() }
        context.fireUserInboundEventTriggered(event)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        clientWentAway()
        Self.watchers.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(context.channel)) }
        context.fireChannelInactive()
    }
}

/// A request context with the connection's `ClientDisconnect` (serve with
/// `ClientDisconnect.http1Server`).
public struct DisconnectAwareRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let disconnect: ClientDisconnect?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.disconnect = ClientDisconnect.watcher(for: source.channel)
    }

    /// `operation`, cancelled when the client goes away first.
    public func cancellingOnDisconnect<Value: Sendable>(_ operation: @escaping @Sendable () async throws -> Value) async throws -> Value {
        guard let disconnect else { return try await operation() }
        return try await disconnect.cancellingOnDisconnect(operation)
    }
}
