import Foundation
import Logging
import ServiceKit
import ServiceLifecycle
import Yams

/// The optional YAML file (`GATEWAY_CONFIG`):
///
/// ```yaml
/// shards:
///   - name: traefik
///     url: http://traefik-shard:9110/mcp
/// ```
struct GatewayConfigFile: Decodable {
    struct Entry: Decodable {
        let name: String
        let url: String
    }
    let shards: [Entry]?

    static func load(path: String) throws -> [ShardEndpoint] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(variable: "GATEWAY_CONFIG", reason: "names a file that cannot be read: \(path)")
        }
        let file: GatewayConfigFile
        do {
            file = try YAMLDecoder().decode(GatewayConfigFile.self, from: data)
        } catch {
            throw ConfigurationError(variable: "GATEWAY_CONFIG", reason: "file \(path) is not valid: \(error.plainDescription)")
        }
        var seen = Set<String>()
        return try (file.shards ?? []).map { entry in
            let shard = try ShardEndpoint.validated(name: entry.name, url: entry.url, variable: "GATEWAY_CONFIG")
            guard seen.insert(shard.name).inserted else {
                throw ConfigurationError(variable: "GATEWAY_CONFIG", reason: "names shard '\(shard.name)' twice")
            }
            return shard
        }
    }
}

/// Re-reads the YAML file when its modification time or size changes. A broken edit is logged
/// and the last good list stays in force.
struct ConfigFileWatcher: Service {
    let path: String
    let directory: ShardDirectory
    let logger: Logger
    let pollInterval: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastStamp = Self.stamp(path)
            while !Task.isCancelled {
                let stamp = Self.stamp(path)
                if stamp != lastStamp {
                    lastStamp = stamp
                    do {
                        let shards = try GatewayConfigFile.load(path: path)
                        await directory.update(source: ShardDirectory.fileSource, shards: shards)
                        logger.info("loaded gateway config file", metadata: ["path": "\(path)", "shards": "\(shards.count)"])
                    } catch {
                        logger.error("gateway config file ignored; keeping the last good shard list", metadata: ["error": "\(error)"])
                    }
                }
                try? await Task.sleep(for: pollInterval)
            }
        }
    }

    static func stamp(_ path: String) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        return "\(modified)-\(size)"
    }
}
