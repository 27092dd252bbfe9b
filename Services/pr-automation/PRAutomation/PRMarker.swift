import Crypto
import Foundation

/// The hidden comment in every pull request body that names the service and the fingerprint of
/// the content it proposes. It is how the bot recognises its own pull requests, so its state can
/// be rebuilt from GitHub alone when the database is lost.
///
/// `<!-- pr-automation:service=dozzle fingerprint=3f2a… -->`
public struct PRMarker: Sendable, Equatable {
    public let service: String
    public let fingerprint: String

    public init(service: String, fingerprint: String) {
        self.service = service
        self.fingerprint = fingerprint
    }

    static let prefix = "<!-- pr-automation:"

    public var comment: String { "\(Self.prefix)service=\(service) fingerprint=\(fingerprint) -->" }

    /// The marker in a pull request body, if the bot wrote one.
    public static func find(in body: String?) -> PRMarker? {
        guard let body, let start = body.range(of: prefix), let end = body[start.upperBound...].range(of: "-->") else { return nil }
        var fields: [String: String] = [:]
        for pair in body[start.upperBound..<end.lowerBound].split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard let service = fields["service"], let fingerprint = fields["fingerprint"] else { return nil }
        return PRMarker(service: service, fingerprint: fingerprint)
    }

    /// SHA-256 over the path and content of the rendered file: equal fingerprints mean the same proposal.
    public static func fingerprint(path: String, content: String) -> String {
        var hasher = SHA256()
        hasher.update(data: Data(path.utf8))
        hasher.update(data: Data([0]))
        hasher.update(data: Data(content.utf8))
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
