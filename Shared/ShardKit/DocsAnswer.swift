import MCP

/// What every `get_<name>_docs` tool returns: the page's part about the topic, as JSON.
public struct DocsAnswer: Encodable, Sendable {
    public let topic: String
    public let url: String
    public let title: String
    public let text: String
}

extension DocsFetcher {
    /// The tool result for `topic`: the page at `path` narrowed to `focus`, or, when the docs site
    /// cannot be used, an `isError` result that names `setting` (the shard's docs URL variable).
    public func answer(topic: String, path: String, focus: String?, setting: String, maxCharacters: Int = 8000) async throws -> CallTool.Result {
        let page: Page
        do {
            page = try await self.page(path)
        } catch let error as FetchError {
            return .failure(error.description + " Set \(setting) to a reachable mirror, or answer from what you know.")
        }
        let text = Self.section(of: page.text, about: focus ?? "", maxCharacters: maxCharacters)
        return try .json(DocsAnswer(topic: topic, url: page.url, title: page.title, text: text))
    }
}
