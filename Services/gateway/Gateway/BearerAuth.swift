import Crypto
import Foundation
import HTTPTypes
import ServiceKit

/// Static bearer tokens per profile, compared in constant time.
struct BearerAuth: Sendable {
    enum Outcome: Equatable {
        case allowed
        case denied(String)
    }

    private let digests: [SHA256.Digest]
    let profile: String

    init(tokens: [String], profile: String) {
        self.digests = tokens.map { SHA256.hash(data: Data($0.utf8)) }
        self.profile = profile
    }

    var isOpen: Bool { digests.isEmpty }

    /// Checks an `Authorization` header. Tokens are hashed first, so the comparison time depends on
    /// neither the token's length nor how much of it matches.
    func check(_ header: String?) -> Outcome {
        guard !digests.isEmpty else { return .allowed }
        guard let header = header.map({ HeaderText.trimmed(Substring($0)) }), !header.isEmpty else {
            return .denied("This endpoint (profile '\(profile)') needs a bearer token: send 'Authorization: Bearer <token>'.")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.first?.lowercased() == "bearer" else {
            return .denied("Only 'Authorization: Bearer <token>' is accepted here.")
        }
        let token = parts.count > 1 ? HeaderText.trimmed(parts[1]) : ""
        guard !token.isEmpty else {
            return .denied("The Authorization header says 'Bearer' with an empty key (Open WebUI sends this when the Bearer key field is blank). Set the key, or choose auth 'None' if this profile has no tokens.")
        }
        let presented = SHA256.hash(data: Data(token.utf8))
        var matched = false
        for digest in digests where Self.constantTimeEqual(digest, presented) { matched = true }
        return matched ? .allowed : .denied("The bearer token is not valid for profile '\(profile)'.")
    }

    static func constantTimeEqual(_ a: SHA256.Digest, _ b: SHA256.Digest) -> Bool {
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
