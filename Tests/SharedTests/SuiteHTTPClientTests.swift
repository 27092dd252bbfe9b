import AsyncHTTPClient
import Foundation
import NIOCore
import ServiceKit
import Testing
import TestSupport

/// `HTTPClient.suite`, the AsyncHTTPClient every service shares for what `HTTP1Client` does not
/// take (`https://`, the cloud APIs, Traefik's API).
@Suite struct SuiteHTTPClientTests {
    /// Long answers to one HTTP/1.1 host run side by side, not eight at a time (AsyncHTTPClient's
    /// default): each answer here takes 400 ms, as a chat stream holds its connection for minutes.
    @Test func longAnswersToOneHostDoNotQueueBehindEightConnections() async throws {
        let server = try await ScriptedHTTPServer.start { _, _ in
            [.pause(.milliseconds(400)), .write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")]
        }
        defer { server.stop() }
        let concurrent = 20
        let answers = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<concurrent {
                group.addTask {
                    let response = try await HTTPClient.suite.execute(
                        HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/"), timeout: .seconds(30))
                    return String(buffer: try await response.body.collect(upTo: 16))
                }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(answers == Array(repeating: "ok", count: concurrent))
        // Eight connections would have served 20 answers in three rounds, reusing them.
        #expect(server.connectionsAccepted == concurrent)
        #expect(HTTPClient.maxHTTP1ConnectionsPerHost >= concurrent)
    }
}
