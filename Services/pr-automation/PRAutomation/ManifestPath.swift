import Foundation
import HTTPTypes
import ServiceKit

/// `PR_PATH_TEMPLATE`: where a service's manifest goes, e.g. `services/{name}/compose.yaml`.
///
/// The folder before the first placeholder is the bot's folder: a rendered path must stay inside it.
public struct ManifestPath: Sendable, Equatable {
    public let template: String
    /// The fixed leading folder (`services/`), possibly empty (the repository root).
    public let folder: String

    public init(_ template: String, variable: String = "PR_PATH_TEMPLATE") throws {
        guard template.contains("{name}") else {
            throw ConfigurationError(variable: variable, reason: "must contain {name} so every service gets its own file, got '\(template)'")
        }
        guard Self.isSafeRelativePath(template.replacingOccurrences(of: "{name}", with: "x")) else {
            throw ConfigurationError(variable: variable, reason: "must be a relative path inside the repository without '..', got '\(template)'")
        }
        self.template = template
        let prefix = template[..<template.range(of: "{name}")!.lowerBound]
        if let slash = prefix.lastIndex(of: "/") {
            self.folder = String(prefix[...slash])
        } else {
            self.folder = ""
        }
    }

    /// The path for one service, checked to stay in ``folder``.
    public func render(name: String) throws -> String {
        let path = template.replacingOccurrences(of: "{name}", with: name)
        guard Self.isSafeRelativePath(path), path.hasPrefix(folder) else {
            throw ServiceError(.badRequest, "the manifest path '\(path)' would leave the folder '\(folder)'")
        }
        return path
    }

    static func isSafeRelativePath(_ path: String) -> Bool {
        guard !path.isEmpty, path.count <= 400, !path.hasPrefix("/"), !path.hasSuffix("/") else { return false }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else { return false }
        return path.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-/".unicodeScalars.contains($0)) }
    }
}
