import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Foundation

/// `<binary> --healthcheck`: asks the running service's own `/health` on loopback and exits 0
/// or 1, so container images need no curl.
public enum Healthcheck {
    public static func requested(_ arguments: [String] = CommandLine.arguments) -> Bool {
        arguments.dropFirst().contains("--healthcheck")
    }

    /// Returns the process exit code.
    public static func run(port: Int) async -> Int32 {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/health")
        request.method = .GET
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(3))
            let body = try await response.body.collect(upTo: 1 << 20)
            print(String(buffer: body))
            return response.status == .ok ? 0 : 1
        } catch {
            print("healthcheck failed: \(error)")
            return 1
        }
    }
}
