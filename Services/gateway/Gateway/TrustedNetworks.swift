import Foundation
import NIOCore

/// CIDR ranges whose requests may assert a caller identity (`X-OpenWebUI-User-*`).
struct TrustedNetworks: Sendable {
    struct Range: Sendable {
        let bytes: [UInt8]
        let prefix: Int
    }
    let ranges: [Range]

    init(_ cidrs: [String]) throws {
        ranges = try cidrs.map { cidr in
            let parts = cidr.split(separator: "/", maxSplits: 1)
            let address = String(parts[0])
            guard let bytes = Self.bytes(of: address) else { throw TrustedNetworkError(text: cidr) }
            let prefix = parts.count > 1 ? Int(parts[1]) : bytes.count * 8
            guard let prefix, (0...(bytes.count * 8)).contains(prefix) else { throw TrustedNetworkError(text: cidr) }
            return Range(bytes: bytes, prefix: prefix)
        }
    }

    func contains(_ address: SocketAddress?) -> Bool {
        guard !ranges.isEmpty, let address, let bytes = Self.bytes(of: address) else { return false }
        return ranges.contains { range in
            guard range.bytes.count == bytes.count else { return false }
            var remaining = range.prefix
            for index in 0..<bytes.count where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if bytes[index] & mask != range.bytes[index] & mask { return false }
                remaining -= bits
            }
            return true
        }
    }

    /// A peer's address bytes as the socket gave them (every tool call asks: no text round trip).
    /// Read at their fixed offsets in `sockaddr_in` (family, port, address) and `sockaddr_in6`
    /// (family, port, flow info, address): naming `sin_addr` depends on which C module Clang
    /// credits with the struct, which differs between builds (MemberImportVisibility).
    static func bytes(of address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let v4): withUnsafeBytes(of: v4.address) { Array($0[4..<8]) }
        case .v6(let v6): withUnsafeBytes(of: v6.address) { Array($0[8..<24]) }
        case .unixDomainSocket: nil
        }
    }

    /// The address's bytes (4 for IPv4, 16 for IPv6), via the C library's parser.
    static func bytes(of address: String) -> [UInt8]? {
        var v4 = [UInt8](repeating: 0, count: 4)
        if inet_pton(AF_INET, address, &v4) == 1 { return v4 }
        var v6 = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET6, address, &v6) == 1 { return v6 }
        return nil
    }
}

struct TrustedNetworkError: Error, CustomStringConvertible {
    let text: String
    var description: String { "'\(text)' is not a CIDR range like 172.16.0.0/12" }
}
