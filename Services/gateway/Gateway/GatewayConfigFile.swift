import Foundation
import Logging
import MCPShared
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
///
/// Profiles (read at start; see docs/CLIENTS.md):
///
/// ```yaml
/// trusted_networks: [172.18.0.0/16]
/// profiles:
///   - name: claude
///     client_prefix: mcp__homelab__
///     include: ["traefik/*"]
///     exclude: ["*/delete_*"]
///     read_only: false
///     token_env: GATEWAY_TOKENS_CLAUDE   # comma-separated tokens in that variable (or token_file)
/// ```
struct GatewayConfigFile: Decodable {
    struct Entry: Decodable {
        let name: String
        let url: String
    }
    struct Profile: Decodable {
        let name: String
        let include: [String]?
        let exclude: [String]?
        let readOnly: Bool?
        let clientPrefix: String?
        let tokenEnv: String?
        let tokenFile: String?

        enum CodingKeys: String, CodingKey {
            case name, include, exclude
            case readOnly = "read_only"
            case clientPrefix = "client_prefix"
            case tokenEnv = "token_env"
            case tokenFile = "token_file"
        }
    }
    let shards: [Entry]?
    let profiles: [Profile]?
    let trustedNetworks: [String]?

    enum CodingKeys: String, CodingKey {
        case shards, profiles
        case trustedNetworks = "trusted_networks"
    }

    static func read(path: String) throws -> GatewayConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(variable: "GATEWAY_CONFIG", reason: "names a file that cannot be read: \(path)")
        }
        do {
            return try YAMLDecoder().decode(GatewayConfigFile.self, from: data)
        } catch {
            throw ConfigurationError(variable: "GATEWAY_CONFIG", reason: "file \(path) is not valid: \(error.plainDescription)")
        }
    }

    /// The profiles the file declares, plus `default`; tokens come from the environment or files,
    /// never from the YAML itself.
    static func profiles(from file: GatewayConfigFile?, defaultTokens: [String], config: ServiceConfig) throws -> [GatewayProfile] {
        var result: [GatewayProfile] = []
        var declared = file?.profiles ?? []
        if !declared.contains(where: { $0.name == GatewayProfile.defaultName }) {
            declared.insert(Profile(name: GatewayProfile.defaultName, include: nil, exclude: nil, readOnly: nil, clientPrefix: nil, tokenEnv: nil, tokenFile: nil), at: 0)
        }
        for profile in declared {
            guard ToolNaming.isValid(profile.name), profile.name.count <= 32 else {
                throw ConfigurationError(variable: "GATEWAY_CONFIG", reason: "has an invalid profile name '\(profile.name)'")
            }
            guard !result.contains(where: { $0.name == profile.name }) else {
                throw ConfigurationError(variable: "GATEWAY_CONFIG", reason: "names profile '\(profile.name)' twice")
            }
            var tokens = profile.name == GatewayProfile.defaultName ? defaultTokens : []
            if let variable = profile.tokenEnv {
                let value = try config.secret(variable) ?? ""
                tokens += value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            if let path = profile.tokenFile {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ConfigurationError(variable: "GATEWAY_CONFIG", reason: "profile '\(profile.name)' names a token_file that cannot be read: \(path)")
                }
                tokens += String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "," })
                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            result.append(GatewayProfile(
                name: profile.name, include: profile.include ?? [], exclude: profile.exclude ?? [],
                readOnly: profile.readOnly ?? false, tokens: tokens, clientPrefix: profile.clientPrefix ?? ""))
        }
        return result
    }

    static func load(path: String) throws -> [ShardEndpoint] {
        let file = try read(path: path)
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
    /// A refused edit shows in `/health` until a good one is loaded.
    let problem: ComponentProblem
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
                        problem.clear()
                        logger.info("loaded gateway config file", metadata: ["path": "\(path)", "shards": "\(shards.count)"])
                    } catch {
                        problem.record("the last edit was refused, the previous shard list stays in force: \(error)")
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
