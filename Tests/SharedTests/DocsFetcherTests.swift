import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import ShardKit
import Synchronization
import Testing
import TestSupport

/// The docs fetcher against a local server serving the saved Traefik docs page.
@Suite struct DocsFetcherTests {
    static let savedPage: String = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("integration/fixtures/traefik-docs/router.html")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()

    @Test func keepsTheArticleAndFindsTheSectionAboutATopic() throws {
        let text = DocsFetcher.mainText(of: Self.savedPage)
        #expect(text.hasPrefix("## Router"))
        #expect(text.contains("Host(`example.com`) && PathPrefix(`/api`)"))
        for noise in ["analytics", "Getting Started", "dataLayer", "Copyright", "¶", "md-header"] {
            #expect(!text.contains(noise), "\(noise) dropped")
        }
        #expect(DocsFetcher.title(of: Self.savedPage) == "Traefik HTTP Routers Documentation - Traefik")
        let priority = DocsFetcher.section(of: text, about: "priority")
        #expect(priority.hasPrefix("## Priority Calculation") && !priority.contains("## TLS"))
        let resolver = DocsFetcher.section(of: text, about: "certResolver")
        #expect(resolver.contains("certResolver") && !resolver.contains("Priority"))
        #expect(DocsFetcher.section(of: text, about: "", maxCharacters: 20).hasSuffix("[… truncated]"))
    }

    @Test func cachesWithATimeToLiveAndASizeBoundAndExplainsFailures() async throws {
        let hits = Atomic<Int>(0)
        let router = Router()
        router.get("/docs/{page}/") { _, context in
            hits.add(1, ordering: .relaxed)
            let page = context.parameters.get("page") ?? ""
            if page == "missing" { return Response(status: .notFound) }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "<html><title>\(page)</title><body><h1>\(page)</h1><p>text</p></body></html>")))
        }
        // The live test framework binds its own free port on localhost.
        let app = Application(router: router)
        try await app.test(.live) { client in
            let port = client.port ?? 0
            let fetcher = DocsFetcher(baseURL: "http://localhost:\(port)/docs", client: .shared, timeToLive: .seconds(60), maxPages: 2)
            #expect(try await fetcher.page("a/").title == "a")
            _ = try await fetcher.page("a/")
            #expect(hits.load(ordering: .relaxed) == 1)
            _ = try await fetcher.page("b/")
            _ = try await fetcher.page("c/")
            #expect(await fetcher.cachedPageCount == 2)
            _ = try await fetcher.page("a/")
            #expect(hits.load(ordering: .relaxed) == 4, "a was evicted as the oldest")
            await #expect { try await fetcher.page("missing/") } throws: { "\($0)".contains("HTTP 404") }

            let expiring = DocsFetcher(baseURL: "http://localhost:\(port)/docs/", client: .shared, timeToLive: .zero)
            _ = try await expiring.page("a/")
            _ = try await expiring.page("a/")
            #expect(hits.load(ordering: .relaxed) == 7)
        }
        try await ClosedPort.with { closed in
            let offline = DocsFetcher(baseURL: "http://127.0.0.1:\(closed)/", client: .shared, requestTimeout: .seconds(2))
            await #expect { try await offline.page("a/") } throws: { error in
                "\(error)".contains("Could not fetch documentation from http://127.0.0.1:\(closed)/a/") && "\(error)".contains("unreachable")
            }
        }
    }
}
