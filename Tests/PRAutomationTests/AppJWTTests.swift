import Foundation
import JWTKit
@testable import PRAutomation
import Testing

/// The App JWT as GitHub checks it: RS256 over the App's key, iat 60 s back, exp under 10 minutes, iss the App ID.
@Suite struct AppJWTTests {
    /// A fresh 2048-bit key pair from openssl, as a person would make one for a test App.
    static func keyPair() throws -> (privatePEM: String, publicPEM: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("app.pem").path
        let pub = directory.appendingPathComponent("app.pub").path
        for arguments in [["genrsa", "-traditional", "-out", key, "2048"], ["rsa", "-in", key, "-pubout", "-out", pub]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = arguments
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
        return (try String(contentsOfFile: key, encoding: .utf8), try String(contentsOfFile: pub, encoding: .utf8))
    }

    @Test func jwtVerifiesWithThePublicKeyAndHasTheRightClaims() async throws {
        let pair = try Self.keyPair()
        let signer = try AppJWTSigner(appID: "123456", privateKeyPEM: pair.privatePEM)
        let now = Date()
        let token = try await signer.sign(now: now)

        let verifier = await JWTKeyCollection().add(rsa: try Insecure.RSA.PublicKey(pem: pair.publicPEM), digestAlgorithm: .sha256)
        let claims = try await verifier.verify(token, as: AppJWTClaims.self)
        #expect(claims.iss.value == "123456")
        let iat = claims.iat.value.timeIntervalSince1970
        let exp = claims.exp.value.timeIntervalSince1970
        #expect(abs(iat - (now.timeIntervalSince1970 - 60)) <= 1)
        #expect(exp > now.timeIntervalSince1970 && exp - iat <= 600)

        let header = try JSONSerialization.jsonObject(with: Self.base64URL(String(token.split(separator: ".")[0]))) as? [String: Any]
        #expect(header?["alg"] as? String == "RS256")

        let other = try Self.keyPair()
        let wrong = await JWTKeyCollection().add(rsa: try Insecure.RSA.PublicKey(pem: other.publicPEM), digestAlgorithm: .sha256)
        await #expect(throws: (any Error).self) { try await wrong.verify(token, as: AppJWTClaims.self) }
    }

    @Test func refusesAKeyThatIsNotRSA() {
        #expect(throws: (any Error).self) { try AppJWTSigner(appID: "1", privateKeyPEM: "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n") }
    }

    static func base64URL(_ text: String) -> Data {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64) ?? Data()
    }
}
