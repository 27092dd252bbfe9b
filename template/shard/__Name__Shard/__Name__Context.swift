import AsyncHTTPClient
import Foundation
import Logging
import ShardKit

/// What every tool of the shard uses: {{title}}'s API and the docs fetcher (with its cache).
struct {{Name}}Context: Sendable {
    let settings: {{Name}}Settings
    let api: {{Name}}API
    let docs: DocsFetcher?
    let logger: Logger

    init(settings: {{Name}}Settings, http: HTTPClient, logger: Logger) {
        self.settings = settings
        self.api = {{Name}}API(settings: settings, client: http, timeout: settings.requestTimeout)
        self.docs = settings.docsURL.isEmpty ? nil : DocsFetcher(baseURL: settings.docsURL, client: http, timeToLive: settings.docsCacheTTL)
        self.logger = logger
    }
}
