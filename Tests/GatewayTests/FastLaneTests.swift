import Foundation
import Gateway
import Hummingbird
import HummingbirdTesting
import Logging
import MCP
import NIOCore
import NIOPosix
import ServiceKit
import ShardKit
import Testing
import TestSupport

/// The fast lane for stateless `tools/call`s (`FastToolCalls`): a real shard and gateway in this
/// process, raw HTTP/1.1 bytes as the client, so pipelining and the exact replies are visible.
@Suite struct FastLaneTests {

    @Test func statelessCallsTakeTheLaneAndEveryAnswerKeepsItsRequestsOrder() async throws {
        _ = MetricsRegistry.shared  // counters made before the bootstrap would count nowhere
        try await withGateway { gatewayPort, _ in
            let before = try await Self.fastLaneCalls(port: gatewayPort)
            // One write: calls that take the lane, a request for Hummingbird's router between
            // them, a call the lane declines (its Mcp-Name does not match) and a last call that
            // asks to close the connection (declined too: Hummingbird owns keep-alive).
            let requests = [
                Self.call(id: 1, text: "one"),
                "GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n",
                Self.call(id: 2, text: "two"),
                Self.call(id: 3, text: "three", mcpName: "demo_other"),
                Self.call(id: 4, text: "four", extraHeaders: "Connection: close\r\n"),
            ]
            let answers = try await Self.exchange(port: gatewayPort, requests.joined())
            try #require(answers.count == 5, "\(answers)")
            #expect(answers[0].hasPrefix("HTTP/1.1 200"))
            #expect(answers[0].contains(#""id":1"#) && answers[0].contains("via lane: one"))
            // A Date header as on Hummingbird's own answers (RFC 9110 asks it of every 2xx).
            #expect(answers[0].contains("\r\nDate: ") && answers[0].contains(" GMT\r\n"))
            #expect(answers[1].hasPrefix("HTTP/1.1 200") && answers[1].contains("\"service\":\"gateway\""))
            #expect(answers[2].contains(#""id":2"#) && answers[2].contains("via lane: two"))
            #expect(answers[3].hasPrefix("HTTP/1.1 400") && answers[3].contains("Header mismatch: Mcp-Name"))
            #expect(answers[4].contains(#""id":4"#) && answers[4].contains("via lane: four"))
            // The first call took the lane; the others came while Hummingbird owed an answer, or
            // were declined.
            #expect(try await Self.fastLaneCalls(port: gatewayPort) >= before + 1)

            // On a fresh connection, call after call takes the lane and keeps the connection.
            let sequential = try await Self.exchange(
                port: gatewayPort, Self.call(id: 5, text: "five") + Self.call(id: 6, text: "six", extraHeaders: "Connection: close\r\n"))
            #expect(sequential.count == 2 && sequential[0].contains("via lane: five") && sequential[1].contains("via lane: six"))
        }
    }

    @Test func callsTheLaneDeclinesGetTheNormalPathsAnswers() async throws {
        try await withGateway(environment: ["GATEWAY_API_TOKENS": "lane-secret"]) { gatewayPort, _ in
            let answers = try await Self.exchange(port: gatewayPort, [
                Self.call(id: 1, text: "no token"),
                Self.call(id: 2, text: "token", extraHeaders: "Authorization: Bearer lane-secret\r\n"),
                Self.call(id: 3, text: "x", tool: "demo_missing", extraHeaders: "Authorization: Bearer lane-secret\r\n"),
                Self.call(id: 4, text: "x", extraHeaders: "Authorization: Bearer lane-secret\r\nOrigin: https://evil.example\r\nConnection: close\r\n"),
            ].joined())
            try #require(answers.count == 4, "\(answers)")
            #expect(answers[0].hasPrefix("HTTP/1.1 401"))
            #expect(answers[1].hasPrefix("HTTP/1.1 200") && answers[1].contains("via lane: token"))
            #expect(answers[2].contains("Unknown tool 'demo_missing'"))
            #expect(answers[3].hasPrefix("HTTP/1.1 403"))
        }
    }

    @Test func aShardThatForgotTheSessionIsCalledOnANewOne() async throws {
        _ = MetricsRegistry.shared
        let shardPort = try FreePort.next()
        let first = try await Self.startShard(port: shardPort)
        try await withGateway(shardPort: shardPort, shardName: "restarted") { gatewayPort, _ in
            let warm = try await Self.exchange(
                port: gatewayPort, Self.call(id: 1, text: "before", tool: "restarted_echo", extraHeaders: "Connection: close\r\n"))
            #expect(warm.first?.contains("via lane: before") == true)
            // A restart on the same port: the gateway's session id means nothing to the new one,
            // and no probe has run since.
            try await first.stop()
            let second = try await Self.startShard(port: shardPort)
            defer { Task { try? await second.stop() } }
            let laneCalls = try await Self.fastLaneCalls(port: gatewayPort, shard: "restarted")
            let answers = try await Self.exchange(
                port: gatewayPort, Self.call(id: 2, text: "after", tool: "restarted_echo", extraHeaders: "Connection: close\r\n"))
            // The lane sent it (and got 404), then the normal path initialized a new session.
            let afterCalls = try await Self.fastLaneCalls(port: gatewayPort, shard: "restarted")
            #expect(afterCalls == laneCalls + 1, "\(laneCalls) -> \(afterCalls)")
            #expect(answers.first?.hasPrefix("HTTP/1.1 200") == true)
            #expect(answers.first?.contains("via lane: after") == true, "\(answers)")
        }
    }

    @Test func aSessionsCallsTakeTheLaneAndKeepTheSessionAlive() async throws {
        _ = MetricsRegistry.shared
        // Sessions idle for 1 s are reaped (checked every 250 ms): only the lane's calls keep this one.
        try await withGateway(shardName: "insession", environment: ["GATEWAY_SESSION_IDLE_TIMEOUT": "1"]) { gatewayPort, _ in
            let initialize = #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"lane","version":"1"}}}"#
            let opened = try await Self.exchange(port: gatewayPort, Self.post(initialize, extraHeaders: "Connection: close\r\n"))
            let session = try #require(opened.first?.split(separator: "\r\n").first { $0.lowercased().hasPrefix("mcp-session-id:") }?
                .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces))
            let headers = "Mcp-Session-Id: \(session)\r\nMCP-Protocol-Version: 2025-11-25\r\n"
            let close = "Connection: close\r\n"
            let initialized = try await Self.exchange(
                port: gatewayPort, Self.post(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#, extraHeaders: headers + close))
            #expect(initialized.first?.hasPrefix("HTTP/1.1 202") == true)
            let before = try await Self.fastLaneCalls(port: gatewayPort, shard: "insession")

            // The first call takes the lane; the others wait for its reply, then go the normal way
            // (declined, or Hummingbird owes an answer): every one answered, in order.
            let answers = try await Self.exchange(port: gatewayPort, [
                Self.post(#"{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"insession_echo","arguments":{"text":"in session"}}}"#, extraHeaders: headers),
                // Other `_meta` reaches the shard through the normal path.
                Self.post(#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"insession_echo","arguments":{"text":"with meta"},"_meta":{"trace":"x"}}}"#, extraHeaders: headers),
                Self.post(#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"insession_echo","arguments":{"text":"x"}}}"#,
                          extraHeaders: "Mcp-Session-Id: 0000\r\nMCP-Protocol-Version: 2025-11-25\r\n"),
                Self.post(#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"insession_echo","arguments":{"text":"last"}}}"#, extraHeaders: headers + close),
            ].joined())
            try #require(answers.count == 4, "\(answers)")
            #expect(answers[0].hasPrefix("HTTP/1.1 200") && answers[0].contains(#""id":"a""#) && answers[0].contains("via lane: in session"))
            #expect(answers[0].lowercased().contains("mcp-session-id: \(session)"))
            #expect(answers[1].contains(#""id":7"#) && answers[1].contains("via lane: with meta"))
            #expect(answers[2].hasPrefix("HTTP/1.1 404"))
            #expect(answers[3].contains(#""id":9"#) && answers[3].contains("via lane: last"))
            #expect(try await Self.fastLaneCalls(port: gatewayPort, shard: "insession") == before + 1)

            // Lane calls for 2 s, longer than the idle timeout: the session stays open.
            let started = ContinuousClock.now
            var number = 100
            while ContinuousClock.now - started < .seconds(2) {
                number += 1
                let call = #"{"jsonrpc":"2.0","id":\#(number),"method":"tools/call","params":{"name":"insession_echo","arguments":{"text":"n\#(number)"}}}"#
                let answer = try await Self.exchange(port: gatewayPort, Self.post(call, extraHeaders: headers + close))
                #expect(answer.first?.contains("via lane: n\(number)") == true, "\(answer)")
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(try await Self.fastLaneCalls(port: gatewayPort, shard: "insession") == before + 1 + (number - 100))
            // Then, left idle, it is reaped like any session.
            try await Task.sleep(for: .milliseconds(1600))
            let late = try await Self.exchange(port: gatewayPort, Self.post(#"{"jsonrpc":"2.0","id":1000,"method":"tools/call","params":{"name":"insession_echo","arguments":{"text":"late"}}}"#, extraHeaders: headers + close))
            #expect(late.first?.hasPrefix("HTTP/1.1 404") == true, "\(late)")
        }
    }

    // MARK: - Helpers

    static func post(_ body: String, extraHeaders: String = "") -> String {
        "POST /mcp HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
            + extraHeaders + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }


    static let shard = ShardDefinition(
        name: "demo", version: "1", description: "demo",
        tools: [
            ShardTool(
                name: "echo", description: "Echoes.",
                inputSchema: JSONSchema.object(["text": JSONSchema.string("Text.")], required: ["text"]), annotations: .init(readOnlyHint: true)
            ) { .text("via lane: " + (try $0.requiredString("text"))) },
        ])

    /// A shard on `port` until `stop()`.
    struct RunningShard {
        let task: Task<Void, any Error>
        func stop() async throws {
            task.cancel()
            _ = await task.result
        }
    }

    /// Starts the shard on `port`, trying again while the port is still being released (a shard
    /// just stopped there, and on a loaded machine its last connections may hold it a moment).
    static func startShard(port: Int) async throws -> RunningShard {
        let deadline = ContinuousClock.now + .seconds(30)
        var lastError = "no answer"
        while ContinuousClock.now < deadline {
            let app = ShardApplication.build(
                definition: shard, settings: ShardSettings(listen: .init(host: "127.0.0.1", port: port)), logger: Logger(label: "shard"))
            let task = Task { try await app.runService(gracefulShutdownSignals: []) }
            let listening = await eventually(within: .seconds(5)) {
                (try? await exchange(port: port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))?.first?.contains("200") == true
            }
            if listening { return RunningShard(task: task) }
            task.cancel()
            if case .failure(let error) = await task.result { lastError = "\(error)" }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("the shard does not listen on \(port): \(lastError)")
        throw CancellationError()
    }

    /// A gateway in front of a shard (one of its own unless `shardPort` is given), probing
    /// rarely so only calls reveal what the shard has forgotten.
    func withGateway(
        shardPort: Int? = nil, shardName: String = "demo", environment: [String: String] = [:], _ body: @Sendable (_ gatewayPort: Int, _ shardPort: Int) async throws -> Void
    ) async throws {
        let port = try shardPort ?? FreePort.next()
        let ownShard = shardPort == nil ? try await Self.startShard(port: port) : nil
        defer { if let ownShard { Task { try? await ownShard.stop() } } }
        let settings = try GatewaySettings(config: ServiceConfig(environment: [
            "PORT": "0", "GATEWAY_SHARDS": "\(shardName)=http://127.0.0.1:\(port)/mcp", "GATEWAY_PROBE_INTERVAL": "600",
        ].merging(environment) { _, new in new }))
        let gateway = try await GatewayApplication.build(settings: settings, logger: Logger(label: "gateway"))
        try await gateway.test(.live) { client in
            let gatewayPort = try #require(client.port)
            let listed = await eventually {
                (try? await Self.exchange(port: gatewayPort, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))?.first?.contains("\"tool_count\":1") == true
            }
            try #require(listed, "the gateway lists demo_echo")
            try await body(gatewayPort, port)
        }
    }

    static func call(id: Int, text: String, tool: String = "demo_echo", mcpName: String? = nil, extraHeaders: String = "") -> String {
        let body = #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":{"text":"\#(text)"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#
        return "POST /mcp HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
            + "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: \(mcpName ?? tool)\r\n" + extraHeaders
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    /// Calls the lane has sent to `shard` (the counter is the process's, shared by parallel tests).
    static func fastLaneCalls(port: Int, shard: String = "demo") async throws -> Int {
        let answer = try await exchange(port: port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").joined()
        return answer.split(separator: "\n").filter { $0.hasPrefix("gateway_fast_lane_calls_total{shard=\"\(shard)\"}") }
            .compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }.reduce(0, +)
    }

    /// Writes `bytes` on one connection and reads until the server closes it (the last request
    /// must say `Connection: close`); returns the responses, split at each status line.
    static func exchange(port: Int, _ bytes: String) async throws -> [String] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        // At most 20 s: a lost answer must fail the test, not hang it.
        let received = try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(string: bytes))
                    var received = ""
                    for try await chunk in inbound { received += String(buffer: chunk) }
                    return received
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(20))
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            channel.channel.close(promise: nil)
            return try #require(first, "no end of the answers within 20 s")
        }
        return received.components(separatedBy: "HTTP/1.1 ").filter { !$0.isEmpty }.map { "HTTP/1.1 " + $0 }
    }
}
