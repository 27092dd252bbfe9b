import Foundation
import Logging
import ServiceKit
import ServiceLifecycle
import Synchronization

/// The current config; the watcher swaps in a new one when the file changes and parses cleanly
/// (a broken edit keeps the last good config and logs why).
public final class ConfigStore: Sendable {
    private let value: Mutex<RouterConfig>
    public init(_ config: RouterConfig) { value = Mutex(config) }
    public var current: RouterConfig { value.withLock { $0 } }
    func replace(_ config: RouterConfig) { value.withLock { $0 = config } }
}

struct ConfigWatcher: Service {
    let path: String
    let environment: [String: String]
    let store: ConfigStore
    let interval: Double
    /// A refused edit shows in `/health` until a good one is loaded.
    let problem: ComponentProblem
    let logger: Logger

    func run() async throws {
        let initial = Self.stamp(path)
        await cancelWhenGracefulShutdown {
            var last = initial
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int64(max(0.1, interval) * 1000)))
                let now = Self.stamp(path)
                guard now != last else { continue }
                last = now
                do {
                    store.replace(try RouterConfig.load(path: path, environment: environment))
                    problem.clear()
                    logger.info("router config reloaded", metadata: ["path": "\(path)"])
                } catch {
                    problem.record("the last edit was refused, the previous config stays in force: \(error)")
                    logger.error("router config not reloaded, keeping the last good one", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    static func stamp(_ path: String) -> String {
        let attrs = try? FileManager.default.attributesOfItem(atPath: path)
        return "\((attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)-\(attrs?[.size] ?? 0)"
    }
}
