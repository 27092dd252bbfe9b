import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Fetches documentation pages for a shard's `get_<name>_docs` tool: downloads a page with
/// AsyncHTTPClient, keeps its main text (headings kept as `## ` lines), and returns the part about
/// a topic. Pages are cached in memory with a time-to-live and a bound on the number of pages.
///
/// ```swift
/// let docs = DocsFetcher(baseURL: "https://doc.traefik.io/traefik/", client: .shared)
/// let page = try await docs.page("reference/routing-configuration/http/routing/router/")
/// let part = DocsFetcher.section(of: page.text, about: "priority")
/// ```
public actor DocsFetcher {
    public struct Page: Sendable {
        public let url: String
        public let title: String
        public let text: String
    }

    /// The documentation site could not be used; the message says what to do.
    public struct FetchError: Error, CustomStringConvertible, Sendable {
        public let url: String
        public let reason: String
        public var description: String {
            "Could not fetch documentation from \(url): \(reason). The docs site may be unreachable (offline, or a wrong docs URL setting)."
        }
    }

    private struct Entry {
        let page: Page
        let storedAt: ContinuousClock.Instant
    }

    public let baseURL: String
    private let client: HTTPClient
    private let timeToLive: Duration
    private let maxPages: Int
    private let requestTimeout: TimeAmount
    private let maxPageBytes: Int
    private var cache: [String: Entry] = [:]

    public init(
        baseURL: String, client: HTTPClient, timeToLive: Duration = .seconds(3600), maxPages: Int = 64,
        requestTimeout: TimeAmount = .seconds(10), maxPageBytes: Int = 4 << 20
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? baseURL : baseURL + "/"
        self.client = client
        self.timeToLive = timeToLive
        self.maxPages = max(1, maxPages)
        self.requestTimeout = requestTimeout
        self.maxPageBytes = maxPageBytes
    }

    /// Number of pages in the cache (for tests and health).
    public var cachedPageCount: Int { cache.count }

    /// The page at `path` (relative to the base URL), from the cache when fresh.
    public func page(_ path: String) async throws -> Page {
        let url = baseURL + (path.hasPrefix("/") ? String(path.dropFirst()) : path)
        let now = ContinuousClock.now
        if let entry = cache[url], now - entry.storedAt < timeToLive { return entry.page }
        let page = try await fetch(url)
        store(page, at: now)
        return page
    }

    private func store(_ page: Page, at now: ContinuousClock.Instant) {
        cache = cache.filter { now - $0.value.storedAt < timeToLive }
        while cache.count >= maxPages, let oldest = cache.min(by: { $0.value.storedAt < $1.value.storedAt }) {
            cache.removeValue(forKey: oldest.key)
        }
        cache[page.url] = Entry(page: page, storedAt: now)
    }

    private func fetch(_ url: String) async throws -> Page {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "text/html, text/plain;q=0.9")
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: requestTimeout)
        } catch {
            throw FetchError(url: url, reason: Self.describe(error))
        }
        guard response.status == .ok else {
            throw FetchError(url: url, reason: "the server answered HTTP \(response.status.code)")
        }
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: maxPageBytes)
        } catch {
            throw FetchError(url: url, reason: "the page could not be read (\(Self.describe(error)))")
        }
        let html = String(buffer: body)
        return Page(url: url, title: Self.title(of: html), text: Self.mainText(of: html))
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "timed out"
            default: break
            }
        }
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return text
    }

    // MARK: - Text extraction

    /// The page's `<title>`, without the site suffix.
    public static func title(of html: String) -> String {
        guard let range = html.range(of: #"<title[^>]*>([\s\S]*?)</title>"#, options: [.regularExpression, .caseInsensitive]) else { return "" }
        let inner = stripTags(String(html[range]))
        return decodeEntities(inner).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The readable text of the page's main content: `<article>` or `<main>` when present, the
    /// whole `<body>` otherwise; scripts, styles, navigation, headers and footers dropped;
    /// headings become `## ` lines so ``section(of:about:maxCharacters:)`` can find them.
    public static func mainText(of html: String) -> String {
        var content = html
        for tag in ["article", "main", "body"] {
            if let range = content.range(of: "<\(tag)[^>]*>[\\s\\S]*</\(tag)>", options: [.regularExpression, .caseInsensitive]) {
                content = String(content[range])
                break
            }
        }
        for tag in ["script", "style", "nav", "header", "footer", "noscript", "svg", "template"] {
            content = content.replacingOccurrences(of: "<\(tag)[^>]*>[\\s\\S]*?</\(tag)>", with: " ", options: [.regularExpression, .caseInsensitive])
        }
        content = content.replacingOccurrences(of: "<!--[\\s\\S]*?-->", with: " ", options: .regularExpression)
        content = content.replacingOccurrences(of: "<h[1-6][^>]*>", with: "\n\n## ", options: [.regularExpression, .caseInsensitive])
        content = content.replacingOccurrences(of: "</h[1-6]>", with: "\n", options: [.regularExpression, .caseInsensitive])
        content = content.replacingOccurrences(of: "<(br|/p|/li|/tr|/pre|/div|/table|/ul|/ol)[^>]*>", with: "\n", options: [.regularExpression, .caseInsensitive])
        content = content.replacingOccurrences(of: "<li[^>]*>", with: "\n- ", options: [.regularExpression, .caseInsensitive])
        content = decodeEntities(stripTags(content))
        let lines = content.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "[ \\t\\r]+", with: " ", options: .regularExpression).trimmingCharacters(in: .whitespaces)
        }
        var result: [String] = []
        for line in lines where !(line.isEmpty && (result.last?.isEmpty ?? true)) {
            result.append(line == "##" ? "" : line)
        }
        return result.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The part of `text` about `topic`: the sections whose heading mentions it (each up to the
    /// next heading), else the paragraphs that mention it, else the start of the page; at most
    /// `maxCharacters`.
    public static func section(of text: String, about topic: String, maxCharacters: Int = 6000) -> String {
        let words = topic.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        guard !words.isEmpty else { return clip(text, maxCharacters) }
        let blocks = splitSections(text)
        let headed = blocks.filter { block in
            let heading = block.heading.lowercased()
            return words.allSatisfy { heading.contains($0) }
        }
        if !headed.isEmpty { return clip(headed.map(\.text).joined(separator: "\n\n"), maxCharacters) }
        let paragraphs = text.components(separatedBy: "\n\n").filter { paragraph in
            let lower = paragraph.lowercased()
            return words.allSatisfy { lower.contains($0) }
        }
        if !paragraphs.isEmpty { return clip(paragraphs.joined(separator: "\n\n"), maxCharacters) }
        return clip(text, maxCharacters)
    }

    private static func splitSections(_ text: String) -> [(heading: String, text: String)] {
        var sections: [(heading: String, text: String)] = []
        var heading = ""
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("## ") {
                if !lines.isEmpty { sections.append((heading, lines.joined(separator: "\n"))) }
                heading = String(line.dropFirst(3))
                lines = [line]
            } else {
                lines.append(line)
            }
        }
        if !lines.isEmpty { sections.append((heading, lines.joined(separator: "\n"))) }
        return sections
    }

    private static func clip(_ text: String, _ limit: Int) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count > limit else { return trimmed }
        return String(trimmed.prefix(limit)) + "\n[… truncated]"
    }

    static func stripTags(_ html: String) -> String {
        html.replacingOccurrences(of: "<[^>]+>", with: "", options: .regularExpression)
    }

    static func decodeEntities(_ text: String) -> String {
        var result = text
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&#x27;", "'"), ("&nbsp;", " "), ("&para;", ""), ("&#182;", ""), ("&amp;", "&"), ("¶", "")] {
            result = result.replacingOccurrences(of: entity, with: character)
        }
        return result
    }
}
