#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP port on 127.0.0.1 that refuses every connection while a test uses it.
///
/// A port that was merely free a moment ago is not enough: a CI run's "refused" check reached a
/// parallel test's server that had since taken the number. Here a socket stays bound to the port
/// (so nobody else can bind it, and the kernel never picks it as a source port) but never listens,
/// so a connect gets a reset. Written on the socket calls because NIO's bootstraps always listen
/// or connect.
public enum ClosedPort {
    @discardableResult
    public static func with<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: (Int) async throws -> Result
    ) async throws -> Result {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ClosedPortError(call: "socket", errno: errno) }
        defer { close(descriptor) }
        // sockaddr_in as bytes, all zero but the family: 0.0.0.0, port 0 (the kernel picks one).
        // Its fields are not named: in a fresh build they can be credited to NIO's C module
        // (MemberImportVisibility), as TrustedNetworks found.
        var address = [UInt8](repeating: 0, count: 16)
        #if canImport(Darwin)
        address[0] = 16
        address[1] = UInt8(AF_INET)
        #else
        withUnsafeBytes(of: sa_family_t(AF_INET)) { address.replaceSubrange(0..<2, with: $0) }
        #endif
        var length = socklen_t(address.count)
        let bound = address.withUnsafeMutableBytes { bytes in
            let generic = bytes.baseAddress!.assumingMemoryBound(to: sockaddr.self)
            return bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
        }
        guard bound else { throw ClosedPortError(call: "bind", errno: errno) }
        let port = Int(address[2]) << 8 | Int(address[3])
        return try await body(port)
    }
}

public struct ClosedPortError: Error, CustomStringConvertible {
    public let call: String
    public let errno: Int32
    public var description: String { "\(call) failed for a closed test port: errno \(errno)" }
}
