import Foundation
import ServiceKit

/// Where the Docker Engine API is: a unix socket or a TCP socket proxy.
struct DockerEndpoint: Sendable, Equatable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        case unix(path: String)
        case tcp(host: String, port: Int)
    }

    let kind: Kind

    init(_ text: String) throws {
        if text.hasPrefix("unix://") {
            let path = String(text.dropFirst("unix://".count))
            guard path.hasPrefix("/") else {
                throw ConfigurationError(variable: "DOCKER_HOST", reason: "needs an absolute socket path (unix:///var/run/docker.sock)")
            }
            kind = .unix(path: path)
        } else if text.hasPrefix("tcp://") || text.hasPrefix("http://") {
            guard let components = URLComponents(string: text.replacingOccurrences(of: "tcp://", with: "http://")), let host = components.host, !host.isEmpty else {
                throw ConfigurationError(variable: "DOCKER_HOST", reason: "must be tcp://host:port (a socket proxy such as tcp://docker-socket-proxy:2375)")
            }
            kind = .tcp(host: host, port: components.port ?? 2375)
        } else {
            throw ConfigurationError(variable: "DOCKER_HOST", reason: "must start with unix:// or tcp:// (TLS to the daemon is not supported; use a socket proxy)")
        }
    }

    /// The URL AsyncHTTPClient needs for `path` (which starts with `/`).
    func url(_ path: String) -> String {
        switch kind {
        case .unix(let socket):
            let encoded = socket.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? socket
            return "http+unix://\(encoded)\(path)"
        case .tcp(let host, let port):
            return "http://\(host):\(port)\(path)"
        }
    }

    var description: String {
        switch kind {
        case .unix(let path): "unix://\(path)"
        case .tcp(let host, let port): "tcp://\(host):\(port)"
        }
    }
}
