import Foundation
import MCPShared
import Synchronization

/// A part of a service that keeps working on its last good state when something goes wrong (a
/// config edit that was refused, a feed that dropped), so the problem would only show in a log.
/// While a problem is recorded, `/health` lists the part as unhealthy with why (the service is
/// then `degraded`); once cleared, the part leaves the report again.
public final class ComponentProblem: Sendable {
    public let name: String
    public let endpoint: String?
    private let problem = Mutex<(reason: String, since: Date)?>(nil)

    public init(name: String, endpoint: String? = nil) {
        self.name = name
        self.endpoint = endpoint
    }

    /// Records `reason`; the first time is kept as the start of the problem.
    public func record(_ reason: String) {
        problem.withLock { current in
            if current?.reason != reason { current = (reason, Date()) }
        }
    }

    public func clear() { problem.withLock { $0 = nil } }

    /// The unhealthy component while a problem is recorded, else nil.
    public var component: ComponentHealth? {
        problem.withLock { current in
            current.map { ComponentHealth(name: name, status: .unhealthy, endpoint: endpoint, lastProbe: $0.since, lastError: $0.reason) }
        }
    }
}
