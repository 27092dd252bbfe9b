import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Test helpers shared by every test target.
public enum FreePort {
    private static let handedOut = Mutex(Set<Int>())

    /// A TCP port on 127.0.0.1 that nothing listens on right now.
    ///
    /// Picked at random below Linux's ephemeral range (32768–60999): a port the kernel handed out
    /// for `bind(0)` can be handed out again to a parallel test's server before our child process
    /// binds it, and then the readiness check talks to the wrong server.
    ///
    /// Never the same port twice in one test process: two parallel tests' servers that drew the
    /// same number both found it free, and one of them then failed to bind (a CI run lost a
    /// PostgreSQL that way).
    public static func next() throws -> Int {
        var lastError: (any Error)?
        for _ in 0..<50 {
            let port = Int.random(in: 20_000..<32_000)
            guard handedOut.withLock({ $0.insert(port).inserted }) else { continue }
            do {
                let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .bind(host: "127.0.0.1", port: port).wait()
                try? channel.close().wait()
                return port
            } catch {
                lastError = error
            }
        }
        throw lastError ?? CocoaError(.fileReadUnknown)
    }
}
