import Foundation
import MCPShared

/// A server discovery has found (from container labels or the static file), before health checks.
struct ServerCandidate: Sendable, Equatable {
    enum Source: Sendable, Equatable {
        case docker(containerID: String)
        case file
    }

    var name: String
    var endpoint: String
    var type: String
    var capabilities: [String]
    var description: String?
    var source: Source

    var containerID: String? {
        if case .docker(let id) = source { return id }
        return nil
    }
}

/// Reads the `<prefix>.*` labels of a container (Traefik's flat dotted style).
struct LabelReader: Sendable {
    let prefix: String
    /// The network shared with the gateway (`DISCOVERY_NETWORK`), preferred when there are several.
    let preferredNetwork: String?

    enum Problem: Error, CustomStringConvertible {
        case invalid(container: String, reason: String)
        var description: String {
            switch self {
            case .invalid(let container, let reason): "container \(container): \(reason)"
            }
        }
    }

    func label(_ key: String, in container: DockerContainer) -> String? {
        let value = container.labels["\(prefix).\(key)"]?.trimmingCharacters(in: .whitespaces)
        return value?.isEmpty == false ? value : nil
    }

    func isEnabled(_ container: DockerContainer) -> Bool {
        label("enable", in: container)?.lowercased() == "true"
    }

    /// The candidate for an enabled container, or a problem that names the container and the label.
    func candidate(for container: DockerContainer) throws -> ServerCandidate {
        let containerName = container.name
        let rawName = label("name", in: container) ?? container.labels["com.docker.compose.service"] ?? containerName
        let name = rawName.lowercased()
        guard ToolNaming.isValid(name), name.count <= 32 else {
            throw Problem.invalid(container: containerName, reason: "name '\(rawName)' is not a valid tool prefix (letters, digits, '-' or '_', at most 32); set \(prefix).name")
        }
        let portText = label("port", in: container) ?? "8080"
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw Problem.invalid(container: containerName, reason: "\(prefix).port '\(portText)' is not a port number")
        }
        var path = label("path", in: container) ?? "/mcp"
        if !path.hasPrefix("/") { path = "/" + path }
        guard let host = address(of: container) else {
            throw Problem.invalid(container: containerName, reason: "has no address on any network\(label("network", in: container).map { " (\(prefix).network=\($0) not attached?)" } ?? "")")
        }
        let capabilities = label("capabilities", in: container)?
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } ?? ["tools"]
        return ServerCandidate(
            name: name, endpoint: "http://\(host):\(port)\(path)", type: label("type", in: container) ?? "shard",
            capabilities: capabilities, description: label("description", in: container), source: .docker(containerID: container.id))
    }

    /// The container's IP on the network named by `<prefix>.network`, else the network shared
    /// with the gateway, else the first network with an address (sorted, so the choice is stable).
    /// Newer engines dropped the top-level IP, so only `NetworkSettings.Networks` is read.
    func address(of container: DockerContainer) -> String? {
        func ip(_ network: String) -> String? {
            guard let settings = container.networks[network], let ip = settings.ipAddress, !ip.isEmpty else { return nil }
            return ip.contains(":") ? "[\(ip)]" : ip
        }
        // Compose prefixes network names with the project (`homelab_mcp`): accept the bare name too.
        func named(_ wanted: String) -> String? {
            ip(wanted) ?? container.networks.keys.sorted().first(where: { $0.hasSuffix("_\(wanted)") }).flatMap(ip)
        }
        if let wanted = label("network", in: container), let found = named(wanted) { return found }
        if let preferredNetwork, let found = named(preferredNetwork) { return found }
        return container.networks.keys.sorted().lazy.compactMap(ip).first
    }
}
