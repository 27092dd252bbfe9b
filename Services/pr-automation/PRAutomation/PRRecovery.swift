import Foundation
import Logging
import NIOHTTP1
import ServiceLifecycle

extension PRFlow {
    /// Rebuilds missing records from GitHub alone: every PR whose body carries the bot's marker.
    /// Returns how many records were added.
    @discardableResult
    public func recoverRecords(maxPages: Int = 20) async throws -> Int {
        var newest: [String: (pull: GitHubPull, marker: PRMarker)] = [:]
        for page in 1...maxPages {
            let batch: [GitHubPull] = try await guardRepository {
                try await client.json(.GET, "\(repoPath)/pulls", query: [("state", "all"), ("per_page", "100"), ("page", String(page))])
            }
            for pull in batch {
                guard let marker = PRMarker.find(in: pull.body) else { continue }
                if let known = newest[marker.service], known.pull.number > pull.number { continue }
                newest[marker.service] = (pull, marker)
            }
            if batch.count < 100 { break }
        }
        var added = 0
        for (service, found) in newest where try await store.find(service: service) == nil {
            let state: PRRecord.State = found.pull.isOpen ? .open : (found.pull.mergedAt != nil ? .merged : .declined)
            let path = (try? pathTemplate.render(name: service)) ?? ""
            try await store.save(PRRecord(
                service: service, fingerprint: found.marker.fingerprint, branch: found.pull.head.ref, path: path,
                prNumber: found.pull.number, url: found.pull.htmlURL, state: state))
            added += 1
        }
        return added
    }
}

/// Runs record recovery once at startup, retrying with backoff while GitHub is unreachable.
struct RecordRecoveryService: Service, CustomStringConvertible {
    let flow: PRFlow
    let logger: Logger
    var description: String { "RecordRecoveryService" }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var wait = 5.0
            while !Task.isCancelled {
                do {
                    let added = try await flow.recoverRecords()
                    logger.info("PR records checked against GitHub", metadata: ["added": "\(added)"])
                    return
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("could not read PRs from GitHub to rebuild records, retrying", metadata: ["error": "\(error)", "wait_s": "\(wait)"])
                    try? await Task.sleep(for: .seconds(wait))
                    wait = min(wait * 2, 300)
                }
            }
        }
        // Stay in the group until shutdown: a finished service would stop the application.
        try? await gracefulShutdown()
    }
}
