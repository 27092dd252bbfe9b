import Foundation
import NIOCore
import NIOPosix

/// Test helpers shared by every test target.
public enum FreePort {
    /// A TCP port on 127.0.0.1 that nothing listens on right now.
    public static func next() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? channel.close().wait() }
        return channel.localAddress?.port ?? 0
    }
}
