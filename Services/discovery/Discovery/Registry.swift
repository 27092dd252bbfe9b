import Foundation
import Logging
import MCPShared
import ServiceKit

/// The registry as discovery knows it right now: every server found, its health, and when it
/// vanished. The database, Redis and the HTTP feed are copies of this; when they are down the
/// registry keeps serving and the copies are rewritten once they return.
actor Registry {
    struct Entry: Sendable {
        var candidate: ServerCandidate
        var status: HealthStatus = .unknown
        var toolCount: Int?
        var latencyMs: Double?
        var lastError: String?
        var lastCheck: Date?
        /// When the server was last present (refreshed on every list while present).
        var lastSeen: Date
        /// Set when the container stopped or left the static file; the server leaves the feed at once.
        var goneSince: Date?
        var everHealthy = false
        /// Consecutive failed checks, for the retry backoff of servers not yet healthy.
        var failures = 0

        var isActive: Bool { goneSince == nil }
    }

    private var entries: [String: Entry] = [:]
    private let logger: Logger
    private let removeGrace: Duration

    init(logger: Logger, removeGrace: Duration) {
        self.logger = logger
        self.removeGrace = removeGrace
    }

    // MARK: - Change notifications

    /// Bumped after every change that readers (database, Redis, feed) should copy.
    nonisolated let signal = ChangeSignal()

    private func changed() {
        signal.bump()
    }

    // MARK: - Sources

    /// Replaces the servers one source contributes (a full container list, or the static file).
    /// Servers of that source missing from `candidates` are marked gone.
    func replace(source isFromSource: @Sendable (ServerCandidate) -> Bool, with candidates: [ServerCandidate]) {
        let now = Date()
        var didChange = false
        var incoming: [String: ServerCandidate] = [:]
        for candidate in candidates {
            if let other = incoming[candidate.name] {
                logger.warning("two servers claim the same name; keeping the first", metadata: ["name": "\(candidate.name)", "kept": "\(other.endpoint)", "ignored": "\(candidate.endpoint)"])
                continue
            }
            if let existing = entries[candidate.name], existing.isActive, !isFromSource(existing.candidate) {
                logger.warning("server name already taken by another source; ignoring", metadata: ["name": "\(candidate.name)", "ignored": "\(candidate.endpoint)"])
                continue
            }
            incoming[candidate.name] = candidate
        }
        for (name, candidate) in incoming {
            if var entry = entries[name] {
                if entry.candidate != candidate || !entry.isActive {
                    if entry.candidate.endpoint != candidate.endpoint || !entry.isActive {
                        // A new address or a comeback: health must be proven again.
                        entry.status = .unknown
                        entry.lastCheck = nil
                        entry.failures = 0
                    }
                    entry.candidate = candidate
                    entry.goneSince = nil
                    didChange = true
                    logger.info("server updated", metadata: ["name": "\(name)", "endpoint": "\(candidate.endpoint)"])
                }
                entry.lastSeen = now
                entries[name] = entry
            } else {
                entries[name] = Entry(candidate: candidate, lastSeen: now)
                didChange = true
                logger.info("server found", metadata: ["name": "\(name)", "endpoint": "\(candidate.endpoint)", "type": "\(candidate.type)"])
            }
        }
        for (name, entry) in entries where entry.isActive && isFromSource(entry.candidate) && incoming[name] == nil {
            markGone(name, reason: "no longer listed", at: now)
            didChange = true
        }
        if didChange { changed() }
    }

    /// A container stopped (an event): its server leaves the feed at once.
    func containerStopped(id: String, action: String) {
        let now = Date()
        var didChange = false
        for (name, entry) in entries where entry.isActive && entry.candidate.containerID.map({ id.hasPrefix($0) || $0.hasPrefix(id) }) == true {
            markGone(name, reason: "container \(action)", at: now)
            didChange = true
        }
        if didChange { changed() }
    }

    private func markGone(_ name: String, reason: String, at now: Date) {
        guard var entry = entries[name] else { return }
        entry.goneSince = now
        entry.lastSeen = now
        entry.status = .unhealthy
        entry.lastError = reason
        entries[name] = entry
        logger.info("server gone", metadata: ["name": "\(name)", "reason": "\(reason)"])
    }

    /// Forgets servers gone for longer than the grace period (their rows are then marked removed).
    func pruneGone(now: Date = Date()) {
        let limit = now.addingTimeInterval(-Self.seconds(removeGrace))
        entries = entries.filter { _, entry in entry.goneSince.map { $0 > limit } ?? true }
    }

    // MARK: - Health

    /// Active servers due for a health check: never checked, or failing (backoff 0.2 s doubling up
    /// to `interval`), or healthy and last checked `interval` ago.
    func dueForCheck(interval: Duration, now: Date = Date()) -> [ServerCandidate] {
        let intervalSeconds = Self.seconds(interval)
        return entries.values.filter { entry in
            guard entry.isActive else { return false }
            guard let last = entry.lastCheck else { return true }
            let wait = entry.status == .healthy ? intervalSeconds : min(intervalSeconds, 0.2 * pow(2, Double(max(0, entry.failures - 1))))
            return now.timeIntervalSince(last) >= wait
        }.map(\.candidate)
    }

    func recordCheck(_ candidate: ServerCandidate, result: HealthCheckResult) {
        guard var entry = entries[candidate.name], entry.isActive, entry.candidate.endpoint == candidate.endpoint else { return }
        let before = (entry.status, entry.toolCount, entry.candidate.capabilities)
        entry.lastCheck = Date()
        entry.latencyMs = result.latencyMs
        switch result.outcome {
        case .healthy(let toolCount, let capabilities):
            entry.status = .healthy
            entry.toolCount = toolCount
            entry.lastError = nil
            entry.failures = 0
            entry.everHealthy = true
            if !capabilities.isEmpty { entry.candidate.capabilities = capabilities }
        case .unhealthy(let error):
            entry.failures += 1
            // A server never seen healthy stays `unknown` while it may still be starting.
            entry.status = entry.everHealthy || entry.failures >= 5 ? .unhealthy : .unknown
            if entry.lastError != error && entry.failures >= 5 || entry.everHealthy && before.0 == .healthy {
                logger.warning("server health check failed", metadata: ["name": "\(candidate.name)", "endpoint": "\(candidate.endpoint)", "error": "\(error)"])
            }
            entry.lastError = error
        }
        entries[candidate.name] = entry
        if before != (entry.status, entry.toolCount, entry.candidate.capabilities) { changed() }
    }

    // MARK: - Reading

    /// Servers the gateway should use: present and answering.
    var servable: [RegistryRecord] {
        records(includeGone: false).filter { $0.healthStatus == .healthy }
    }

    func records(includeGone: Bool) -> [RegistryRecord] {
        entries.values.filter { includeGone || $0.isActive }.sorted { $0.candidate.name < $1.candidate.name }.map(Self.record)
    }

    var allEntries: [Entry] { Array(entries.values) }

    static func record(_ entry: Entry) -> RegistryRecord {
        var metadata: [String: String] = [:]
        metadata["source"] = entry.candidate.containerID == nil ? "static" : "docker"
        metadata["container_id"] = entry.candidate.containerID.map { String($0.prefix(12)) }
        metadata["description"] = entry.candidate.description
        metadata["tool_count"] = entry.toolCount.map(String.init)
        metadata["latency_ms"] = entry.latencyMs.map { String(format: "%.1f", $0) }
        metadata["last_error"] = entry.lastError
        metadata["last_check"] = entry.lastCheck?.ISO8601Format()
        metadata["gone_since"] = entry.goneSince?.ISO8601Format()
        return RegistryRecord(
            name: entry.candidate.name, type: entry.candidate.type, endpoint: entry.candidate.endpoint,
            healthStatus: entry.status, capabilities: entry.candidate.capabilities, lastSeen: entry.isActive ? Date() : entry.lastSeen,
            metadata: metadata)
    }

    static func seconds(_ duration: Duration) -> Double {
        duration.seconds
    }
}
