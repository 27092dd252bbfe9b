import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// The leaf certificate a TLS server presents for a server name (SNI), read with verification
/// off: the point is to see what clients get, valid or not.
enum TLSHandshake {
    struct Leaf: Sendable {
        let commonName: String?
        let sans: [String]
        let issuer: String?
        let notBefore: Date
        let notAfter: Date
    }

    struct HandshakeError: Error, CustomStringConvertible, Sendable {
        let description: String
    }

    static func leaf(host: String, port: Int, serverName: String, timeout: Duration) async throws -> Leaf {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: configuration)
        let group = MultiThreadedEventLoopGroup.singleton
        let loop = group.next()
        let promise = loop.makePromise(of: NIOSSLCertificate.self)
        let sniName: String? = serverName.isEmpty || serverName.allSatisfy({ $0.isNumber || $0 == "." || $0 == ":" }) ? nil : serverName
        let timeAmount = TimeAmount.nanoseconds(Int64(timeout / .nanoseconds(1)))
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeAmount)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try NIOSSLClientHandler(context: context, serverHostname: sniName) { certificates, verification in
                        if let leaf = certificates.first { promise.succeed(leaf) }
                        verification.succeed(.certificateVerified)
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            promise.fail(error)
            throw HandshakeError(description: "cannot connect to \(host):\(port): \(TraefikAPI.describe(error))")
        }
        let timer = loop.scheduleTask(in: timeAmount) {
            promise.fail(HandshakeError(description: "no TLS certificate from \(host):\(port) within \(TraefikAPI.seconds(timeout))"))
        }
        channel.closeFuture.whenComplete { _ in
            promise.fail(HandshakeError(description: "\(host):\(port) closed the connection during the TLS handshake"))
        }
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        let certificate = try await promise.futureResult.get()
        let names = certificate._subjectAlternativeNames().compactMap { name -> String? in
            name.nameType == .dnsName ? String(decoding: name.contents, as: UTF8.self) : nil
        }
        return Leaf(
            commonName: certificate.subjectName.first { $0.type == .commonName }?.value,
            sans: names,
            issuer: certificate.issuerName.first { $0.type == .commonName }?.value ?? certificate.issuerName.first { $0.type == .organization }?.value,
            notBefore: Date(timeIntervalSince1970: TimeInterval(certificate.notValidBefore)),
            notAfter: Date(timeIntervalSince1970: TimeInterval(certificate.notValidAfter)))
    }
}
