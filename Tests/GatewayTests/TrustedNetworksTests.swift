import NIOCore
import Testing

@testable import Gateway

/// Which peers may assert an Open WebUI user identity: matched on the socket's address bytes.
@Suite struct TrustedNetworksTests {
    private func peer(_ ip: String) -> SocketAddress? { try? SocketAddress(ipAddress: ip, port: 40000) }

    @Test func matchesIPv4PeersByPrefix() throws {
        let networks = try TrustedNetworks(["172.16.0.0/12", "127.0.0.1"])
        #expect(networks.contains(peer("172.18.0.3")))
        #expect(networks.contains(peer("127.0.0.1")))
        #expect(!networks.contains(peer("172.32.0.1")))
        #expect(!networks.contains(peer("127.0.0.2")))
        #expect(!networks.contains(nil))
    }

    @Test func matchesIPv6PeersAndNeverMixesFamilies() throws {
        let networks = try TrustedNetworks(["fd00::/8"])
        #expect(networks.contains(peer("fd12:3456::1")))
        #expect(!networks.contains(peer("fe80::1")))
        #expect(!networks.contains(peer("10.0.0.1")))
    }

    @Test func noRangesTrustNobody() throws {
        #expect(!(try TrustedNetworks([])).contains(peer("127.0.0.1")))
        #expect(throws: TrustedNetworkError.self) { try TrustedNetworks(["172.16.0.0/33"]) }
    }
}
