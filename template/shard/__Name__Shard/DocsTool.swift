import Foundation
import MCP
import ShardKit

/// `get_{{name_snake}}_docs`: the part of {{title}}'s documentation about a topic, fetched from
/// `{{NAME}}_DOCS_URL` and cached (`{{NAME}}_DOCS_CACHE_TTL`).
enum DocsTool {
    /// Topic → page path under the docs URL. Add the pages a model needs most; "overview" is the
    /// docs URL itself.
    static let pages: [String: String] = [
        "overview": "",
    ]

    /// Other words people use for the same topics.
    static let aliases: [String: String] = [
        "intro": "overview", "introduction": "overview", "docs": "overview",
    ]


    static func make(_ context: {{Name}}Context) -> ShardTool {
        let topics = pages.keys.sorted().joined(separator: ", ")
        return ShardTool(
            name: "get_{{name_snake}}_docs",
            title: "Read {{title}} documentation",
            description: "Fetches the official {{title}} documentation page for a topic and returns the part about it. Topics: \(topics). Use focus to narrow the answer to one section.",
            inputSchema: JSONSchema.object([
                "topic": JSONSchema.string("What to read about. One of: \(topics)."),
                "focus": JSONSchema.string("Optional word or phrase to narrow the answer to one section."),
            ], required: ["topic"]),
            annotations: .init(title: "Read {{title}} docs", readOnlyHint: true, openWorldHint: true)
        ) { arguments in
            let topic = try arguments.requiredString("topic")
            let focus = try arguments.string("focus")
            guard let path = page(for: topic) else {
                throw ToolInputError("unknown topic '\(topic)'. Known topics: \(topics)")
            }
            guard let docs = context.docs else {
                return .failure("No documentation URL is configured for {{title}} ({{NAME}}_DOCS_URL is empty); answer from what you know.")
            }
            return try await docs.answer(topic: topic, path: path, focus: focus, setting: "{{NAME}}_DOCS_URL")
        }
    }

    static func page(for topic: String) -> String? {
        let key = topic.trimmingCharacters(in: .whitespaces).lowercased().replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: "-", with: " ")
        return pages[aliases[key] ?? key]
    }
}
