import Foundation
import Logging
import MCPShared
import ServiceLifecycle

/// Keeps the registry's container servers in step with Docker: negotiate the API version, list
/// the labelled containers, follow `/events` (a start re-lists; a stop removes at once), re-list
/// every `interval` to heal missed events, and reconnect with backoff when the daemon goes away.
/// While Docker is unreachable the servers already known stay registered.
actor DockerWatcher: Service {
    let docker: DockerClient
    let labels: LabelReader
    let registry: Registry
    let interval: Duration
    let logger: Logger

    private(set) var health = ComponentHealth(name: "docker", status: .unknown)
    private var lastEventTime: Int64?
    private var reportedProblems = Set<String>()

    init(docker: DockerClient, labels: LabelReader, registry: Registry, interval: Duration, logger: Logger) {
        self.docker = docker
        self.labels = labels
        self.registry = registry
        self.interval = interval
        self.logger = logger
        self.health.endpoint = docker.endpoint.description
    }

    var enableLabel: String { "\(labels.prefix).enable=true" }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var backoff = Duration.milliseconds(250)
            while !Task.isCancelled {
                let connectedAt = ContinuousClock.now
                do {
                    try await self.followOnce()
                } catch is CancellationError {
                    return
                } catch {
                    if Task.isCancelled { return }
                    await self.failed(error)
                }
                // A stream that stayed up a while was healthy: start the backoff over.
                if ContinuousClock.now - connectedAt > .seconds(10) { backoff = .milliseconds(250) }
                try? await Task.sleep(for: backoff)
                backoff = Swift.min(backoff * 2, .seconds(5))
            }
        }
    }

    /// One connection: negotiate, list, then events and periodic re-lists until either fails.
    private func followOnce() async throws {
        let version = try await docker.negotiate()
        try await relist(version: version)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await self.docker.followEvents(version: version, label: self.enableLabel, since: await self.lastEventTime) { event in
                    await self.handle(event, version: version)
                }
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: self.interval)
                    try await self.relist(version: version)
                }
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func handle(_ event: DockerEvent, version: APIVersion) async {
        if let nanos = event.timeNano { lastEventTime = nanos / 1_000_000_000 } else if let time = event.time { lastEventTime = time }
        switch event.action {
        case "start":
            do {
                try await relist(version: version)
            } catch {
                logger.warning("re-list after a start event failed", metadata: ["error": "\(error)"])
            }
        case "die", "stop", "kill", "destroy":
            await registry.containerStopped(id: event.actor.id, action: event.action)
        default:
            break
        }
    }

    private func relist(version: APIVersion) async throws {
        let containers = try await docker.listContainers(version: version, label: enableLabel)
        var candidates: [ServerCandidate] = []
        for container in containers where labels.isEnabled(container) {
            do {
                candidates.append(try labels.candidate(for: container))
            } catch {
                // Said once per distinct problem, not on every re-list.
                if reportedProblems.insert("\(error)").inserted { logger.warning("container skipped", metadata: ["reason": "\(error)"]) }
            }
        }
        await registry.replace(source: { $0.containerID != nil }, with: candidates)
        if health.status != .healthy {
            logger.info("Docker API connected", metadata: ["docker": "\(docker.endpoint)", "api_version": "\(version)", "servers": "\(candidates.count)"])
        }
        health.status = .healthy
        health.lastError = nil
        health.lastProbe = Date()
        health.toolCount = candidates.count
    }

    private func failed(_ error: any Error) {
        let text = "\(error)"
        if health.lastError != text {
            logger.error("Docker API unavailable; keeping the servers already known and retrying", metadata: ["docker": "\(docker.endpoint)", "error": "\(text)"])
        }
        health.status = .unhealthy
        health.lastError = text
        health.lastProbe = Date()
    }
}
