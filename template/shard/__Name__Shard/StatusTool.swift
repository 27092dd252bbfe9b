import Foundation
import MCP
import NIOCore
import NIOHTTP1
import ShardKit

/// `get_{{name_snake}}_status`: is {{title}} there, how fast, which version. The example
/// read-only tool: copy it for each question the shard should answer.
enum StatusTool {
    struct Answer: Encodable, Sendable {
        let reachable: Bool
        let url: String
        let httpStatus: Int?
        let version: String?
        let server: String?
        let latencyMs: Int
        let preview: String?
        let problem: String?
    }

    static func make(_ context: {{Name}}Context) -> ShardTool {
        ShardTool(
            name: "get_{{name_snake}}_status",
            title: "{{title}} status",
            description: "Checks whether {{title}} answers at its configured address and returns the HTTP status, the version when {{title}} reports one, the response time and the start of the answer. Call this first when {{title}} seems down or slow.",
            inputSchema: JSONSchema.object([:]),
            annotations: .init(title: "{{title}} status", readOnlyHint: true, openWorldHint: false)
        ) { _ in
            let started = ContinuousClock.now
            let url = context.api.baseURL + context.api.statusPath
            do {
                let response = try await context.api.get(context.api.statusPath)
                let latency = Int((ContinuousClock.now - started) / .milliseconds(1))
                let preview = String(buffer: response.body).prefix(300)
                return try .json(Answer(
                    reachable: true, url: url, httpStatus: response.status, version: version(in: response), server: response.headers.first(name: "Server"),
                    latencyMs: latency, preview: preview.isEmpty ? nil : String(preview),
                    problem: response.status >= 400 ? "{{title}} answered HTTP \(response.status) (check {{NAME}}_STATUS_PATH and {{NAME}}_API_TOKEN)" : nil))
            } catch let error as {{Name}}APIError {
                let latency = Int((ContinuousClock.now - started) / .milliseconds(1))
                return try .json(Answer(
                    reachable: false, url: url, httpStatus: nil, version: nil, server: nil, latencyMs: latency, preview: nil, problem: error.message))
            }
        }
    }

    /// A `version` (or `Version`) field of a JSON answer, as many homelab services report it.
    static func version(in response: {{Name}}API.Response) -> String? {
        guard let object = response.json as? [String: Any] else { return nil }
        return (object["version"] ?? object["Version"]).map { "\($0)" }
    }
}
