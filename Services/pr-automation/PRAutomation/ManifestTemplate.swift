import Foundation
import ServiceKit

/// The manifest a pull request adds: a template with `{{name}}`, `{{service}}` (the Compose
/// service / Kubernetes object name; for a discovered server, its name), `{{type}}`, `{{endpoint}}`,
/// `{{host}}`, `{{port}}`, `{{path}}`, `{{capabilities}}` (comma-separated), `{{description}}`
/// (escaped for a double-quoted YAML string) and `{{image}}`.
public struct ManifestTemplate: Sendable, Equatable {
    /// Where it came from, for logs and the dry-run reply.
    public let source: String
    public let text: String

    public static let compose = ManifestTemplate(source: "builtin:compose", text: BuiltInTemplates.compose)
    public static let kubernetes = ManifestTemplate(source: "builtin:kubernetes", text: BuiltInTemplates.kubernetes)

    public static let placeholders = ["name", "service", "type", "endpoint", "host", "port", "path", "capabilities", "description", "image"]

    public init(source: String, text: String) {
        self.source = source
        self.text = text
    }

    /// `compose`, `kubernetes` or a file path.
    public static func load(_ setting: String, variable: String) throws -> ManifestTemplate {
        switch setting.lowercased() {
        case "compose": return .compose
        case "kubernetes", "k8s": return .kubernetes
        default:
            guard let data = FileManager.default.contents(atPath: setting), let text = String(data: data, encoding: .utf8) else {
                throw ConfigurationError(variable: variable, reason: "must be compose, kubernetes or a readable template file, got '\(setting)'")
            }
            let template = ManifestTemplate(source: setting, text: text)
            if let unknown = template.unknownPlaceholders().first {
                throw ConfigurationError(variable: variable, reason: "uses the unknown placeholder {{\(unknown)}}; known: \(placeholders.joined(separator: ", "))")
            }
            guard text.contains("{{name}}") else {
                throw ConfigurationError(variable: variable, reason: "must use {{name}} somewhere, or every service renders the same file")
            }
            return template
        }
    }

    /// Placeholders in the text that rendering would not fill.
    func unknownPlaceholders() -> [String] {
        var unknown: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            let key = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if !Self.placeholders.contains(key) { unknown.append(key) }
            rest = rest[close.upperBound...]
        }
        return unknown
    }

    public func render(_ service: ValidatedAnnouncement, image: String) -> String {
        let values: [String: String] = [
            "name": service.name, "service": service.name, "type": service.type, "endpoint": service.endpoint, "host": service.host,
            "port": String(service.port), "path": service.path, "capabilities": service.capabilities.joined(separator: ","),
            "description": Self.yamlDoubleQuotedContent(service.description ?? ""),
            "image": image.replacingOccurrences(of: "{name}", with: service.name),
        ]
        var output = text
        for (key, value) in values {
            output = output.replacingOccurrences(of: "{{\(key)}}", with: value)
            output = output.replacingOccurrences(of: "{{ \(key) }}", with: value)
        }
        return output
    }

    /// The inside of a YAML double-quoted scalar (the JSON escapes are a subset YAML accepts).
    static func yamlDoubleQuotedContent(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
