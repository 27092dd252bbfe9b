import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

// Measures MCP tool-call latency straight to a shard and through the gateway, side by side in one
// run, with the same raw HTTP client (so the client's own cost cancels out), plus the
// initialize + tools/list handshake Open WebUI repeats on every chat message.
//
// usage: gateway-bench <shard-mcp-url> <gateway-mcp-url> <gateway-tool-name> <shard-tool-name> [calls-per-level]

struct Stats {
    let p50: Double, p99: Double, perSecond: Double
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))]
}

let headers: [(String, String)] = [("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream")]

func post(_ client: HTTPClient, _ url: String, _ body: String, session: String?, modern: (method: String, name: String?)? = nil) async throws -> (String?, String) {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let modern {
        request.headers.add(name: "MCP-Protocol-Version", value: "2026-07-28")
        request.headers.add(name: "Mcp-Method", value: modern.method)
        if let name = modern.name { request.headers.add(name: "Mcp-Name", value: name) }
    }
    if let session {
        request.headers.add(name: "Mcp-Session-Id", value: session)
        request.headers.add(name: "MCP-Protocol-Version", value: "2025-11-25")
    }
    request.body = .bytes(ByteBuffer(string: body))
    let response = try await client.execute(request, timeout: .seconds(30))
    let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
    guard response.status.code < 300 else { throw BenchError.http(Int(response.status.code), text) }
    return (response.headers.first(name: "Mcp-Session-Id"), text)
}

enum BenchError: Error { case http(Int, String), noResult(String) }

let initialize = #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#
let initialized = #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#

func openSession(_ client: HTTPClient, _ url: String) async throws -> String {
    let (session, _) = try await post(client, url, initialize, session: nil)
    _ = try await post(client, url, initialized, session: session)
    return session!
}

/// A tool and what to call it with: `echo` (answers at once, the answer contains the text) or the
/// fixture's `slow` (answers after `ms`, as a real tool takes time).
struct ToolCall: Sendable {
    let name: String
    let arguments: String
    /// A word the answer contains.
    let answerMarker: String
    let takesMilliseconds: Int

    static func echo(_ name: String) -> ToolCall { ToolCall(name: name, arguments: #"{"text":"benchmark"}"#, answerMarker: "benchmark", takesMilliseconds: 0) }
    static func slow(_ name: String, ms: Int) -> ToolCall { ToolCall(name: name, arguments: #"{"ms":\#(ms)}"#, answerMarker: "waited", takesMilliseconds: ms) }
}

func callBody(_ tool: ToolCall, id: Int) -> String {
    #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool.name)","arguments":\#(tool.arguments)}}"#
}

let modernMeta = #""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"bench","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}}"#

func modernCallBody(_ tool: ToolCall, id: Int) -> String {
    #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool.name)","arguments":\#(tool.arguments),\#(modernMeta)}}"#
}

/// `calls` tool calls at `concurrency` workers, each worker with its own session.
/// `modern`: MCP 2026-07-28, no session (what Open WebUI 0.12's SDK speaks when the server does).
/// `pidVariable` names the proxy whose CPU time the timed calls cost (opening, warming up and
/// closing the sessions excluded: at concurrency 128 the handshakes alone were a third of it).
func measureCalls(
    _ client: HTTPClient, url: String, tool: ToolCall, concurrency: Int, calls: Int, modern: Bool = false, pidVariable: String? = nil
) async throws -> Samples {
    var sessions: [String?] = []
    for _ in 0..<concurrency { sessions.append(modern ? nil : try await openSession(client, url)) }
    let send: @Sendable (String?, Int) async throws -> String = { session, id in
        modern
            ? try await post(client, url, modernCallBody(tool, id: id), session: nil, modern: ("tools/call", tool.name)).1
            : try await post(client, url, callBody(tool, id: id), session: session).1
    }
    // Warm up connections and caches: every worker at once, so as many connections are open (and a
    // slow tool's wait is paid once, not once per worker).
    try await withThrowingTaskGroup(of: Void.self) { group in
        for session in sessions { group.addTask { _ = try await send(session, 0) } }
        try await group.waitForAll()
    }
    let perWorker = max(1, calls / concurrency)
    let cpuBefore = cpuSeconds(pidVariable)
    let shardCPUBefore = cpuSeconds("BENCH_SHARD_PID")
    let started = ContinuousClock.now
    let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
        for session in sessions {
            group.addTask {
                var samples: [Double] = []
                samples.reserveCapacity(perWorker)
                // A slow tool: workers start spread over one call's time, as independent clients
                // would, not in step (in step, every round trip is a burst of `concurrency` calls
                // that queue for the cores however idle they are in between).
                if tool.takesMilliseconds > 0 { try await Task.sleep(for: .milliseconds(Int.random(in: 0..<tool.takesMilliseconds))) }
                for i in 0..<perWorker {
                    let t0 = ContinuousClock.now
                    let text = try await send(session, i + 1)
                    samples.append(Double((ContinuousClock.now - t0) / .nanoseconds(1)) / 1e6)
                    guard text.contains(tool.answerMarker) else { throw BenchError.noResult(text) }
                }
                return samples
            }
        }
        return try await group.reduce(into: []) { $0 += $1 }
    }
    let seconds = Double((ContinuousClock.now - started) / .nanoseconds(1)) / 1e9
    let cpu = cpuBefore.flatMap { before in cpuSeconds(pidVariable).map { $0 - before } }
    let shardCPU = shardCPUBefore.flatMap { before in cpuSeconds("BENCH_SHARD_PID").map { $0 - before } }
    // End the sessions, so repeated rounds stay under the servers' session limits.
    for case let session? in sessions { try await deleteSession(client, url, session) }
    return Samples(latencies: latencies, seconds: seconds, cpuSeconds: cpu, shardCPUSeconds: shardCPU)
}

func deleteSession(_ client: HTTPClient, _ url: String, _ session: String) async throws {
    var delete = HTTPClientRequest(url: url)
    delete.method = .DELETE
    delete.headers.add(name: "Mcp-Session-Id", value: session)
    _ = try await client.execute(delete, timeout: .seconds(5))
}

/// Latencies and wall time of one or more batches of calls to one target.
struct Samples {
    var latencies: [Double] = []
    var seconds: Double = 0
    /// Gateway CPU seconds spent on these batches, when measured.
    var cpuSeconds: Double?
    /// The shard's CPU seconds on these batches (BENCH_SHARD_PID): a proxy can cost the shard
    /// more work per call too (one session for every call instead of one per client).
    var shardCPUSeconds: Double?

    mutating func add(_ other: Samples) {
        latencies += other.latencies
        seconds += other.seconds
        if let cpu = other.cpuSeconds { cpuSeconds = (cpuSeconds ?? 0) + cpu }
        if let cpu = other.shardCPUSeconds { shardCPUSeconds = (shardCPUSeconds ?? 0) + cpu }
    }

    var stats: Stats {
        let sorted = latencies.sorted()
        return Stats(p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), perSecond: Double(sorted.count) / seconds)
    }
}

func measureHandshake(_ client: HTTPClient, url: String, rounds: Int) async throws -> Stats {
    var samples: [Double] = []
    let started = ContinuousClock.now
    for _ in 0..<rounds {
        let t0 = ContinuousClock.now
        let session = try await openSession(client, url)
        _ = try await post(client, url, #"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}"#, session: session)
        samples.append(Double((ContinuousClock.now - t0) / .nanoseconds(1)) / 1e6)
        try await deleteSession(client, url, session)
    }
    let elapsed = Double((ContinuousClock.now - started) / .nanoseconds(1)) / 1e9
    let sorted = samples.sorted()
    return Stats(p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), perSecond: Double(rounds) / elapsed)
}

func measureModernHandshake(_ client: HTTPClient, url: String, rounds: Int) async throws -> Stats {
    var samples: [Double] = []
    let started = ContinuousClock.now
    for _ in 0..<rounds {
        let t0 = ContinuousClock.now
        _ = try await post(client, url, #"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{\#(modernMeta)}}"#, session: nil, modern: ("server/discover", nil))
        _ = try await post(client, url, #"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{\#(modernMeta)}}"#, session: nil, modern: ("tools/list", nil))
        samples.append(Double((ContinuousClock.now - t0) / .nanoseconds(1)) / 1e6)
    }
    let elapsed = Double((ContinuousClock.now - started) / .nanoseconds(1)) / 1e9
    let sorted = samples.sorted()
    return Stats(p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), perSecond: Double(rounds) / elapsed)
}

let arguments = CommandLine.arguments
guard arguments.count >= 5 else {
    print("usage: gateway-bench <shard-mcp-url> <gateway-mcp-url> <gateway-tool> <shard-tool> [calls]")
    exit(2)
}
let (shardURL, gatewayURL, gatewayTool, shardTool) = (arguments[1], arguments[2], arguments[3], arguments[4])
let calls = arguments.count > 5 ? Int(arguments[5]) ?? 4000 : 4000

var configuration = HTTPClient.Configuration()
configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
func fmt(_ value: Double) -> String { String(format: "%.3f", value) }

/// CPU time (user + system) a process has used so far, when the environment variable `pidVariable`
/// (BENCH_GATEWAY_PID or a forwarder's) names it: on a shared 2-core machine wall-clock latency is
/// noisy, CPU per call much less so.
func cpuSeconds(_ pidVariable: String?) -> Double? {
    guard let pidVariable, let pid = ProcessInfo.processInfo.environment[pidVariable],
          let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let afterName = stat.range(of: ") ") else { return nil }
    let fields = stat[afterName.upperBound...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

print("| concurrency | client era at the gateway | direct p50 ms | direct p99 ms | direct calls/s | gateway p50 ms | gateway p99 ms | gateway calls/s | added p50 ms | added p99 ms | proxy CPU ms/call | shard CPU ms/call direct | shard CPU ms/call via proxy |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
// BENCH_LEVELS=1,32 narrows the run for quick A/B comparisons while working on the gateway.
let environment = ProcessInfo.processInfo.environment
func levelList(_ variable: String, _ fallback: [Int]) -> [Int] {
    environment[variable].map { $0.split(separator: ",").compactMap { Int($0) } } ?? fallback
}
/// A level: its concurrency, and how long the tool takes (0: `echo`, at once). The slow levels
/// (BENCH_SLOW_LEVELS, BENCH_SLOW_MS, tools named by BENCH_SLOW_TOOLS=<gateway tool>:<shard tool>)
/// keep that many calls in flight without saturating the two cores, as real tools take time:
/// the added latency is then the gateway's, not the queue's.
let slowMilliseconds = Int(environment["BENCH_SLOW_MS"] ?? "") ?? 200
let slowTools = environment["BENCH_SLOW_TOOLS"].map { $0.split(separator: ":").map(String.init) }
let levels = levelList("BENCH_LEVELS", [1, 32, 128]).map { ($0, 0) }
    + (slowTools == nil ? [] : levelList("BENCH_SLOW_LEVELS", [32, 128]).map { ($0, slowMilliseconds) })
/// Targets are measured in interleaved rounds (direct, forwarder, gateway, direct, ...), so a
/// slow spell of this shared machine lands on every column alike instead of on one of them.
let interleavedRounds = 8
struct Target {
    let label: String
    let url: String
    let tool: ToolCall
    let modern: Bool
    /// The environment variable naming the proxy process whose CPU time is measured.
    let pidVariable: String?
}
for (concurrency, toolMilliseconds) in levels {
    let shardCall = toolMilliseconds == 0 ? ToolCall.echo(shardTool) : ToolCall.slow(slowTools![1], ms: toolMilliseconds)
    let gatewayCall = toolMilliseconds == 0 ? ToolCall.echo(gatewayTool) : ToolCall.slow(slowTools![0], ms: toolMilliseconds)
    let level = toolMilliseconds == 0 ? "\(concurrency)" : "\(concurrency), tool takes \(toolMilliseconds) ms"
    var targets = [Target(label: "direct", url: shardURL, tool: shardCall, modern: false, pidVariable: nil)]
    // Forwarders in front of the same shard, doing no MCP work: what one more hop costs on the
    // services' stack (Tests/Benchmarks/ProxyFloor, with AsyncHTTPClient or with ServiceKit's
    // HTTP1Client, what the gateway uses for plain-http shards), on bare SwiftNIO (Tests/Benchmarks/NIOFloor)
    // and through nginx (scripts/bench/nginx-forwarder.sh). Each is named by <PREFIX>_URL and its
    // process by <PREFIX>_PID.
    let forwarders = [
        ("BENCH_FLOOR", "bare Hummingbird + AsyncHTTPClient forwarder, no MCP work (2025-11-25)"),
        ("BENCH_HTTP1", "bare Hummingbird + HTTP1Client forwarder, no MCP work (2025-11-25)"),
        ("BENCH_PIPELINE", "bare forwarder in Hummingbird's channel pipeline + HTTP1Client.send, no MCP work (2025-11-25)"),
        ("BENCH_NIO", "bare SwiftNIO forwarder, no MCP work (2025-11-25)"),
        ("BENCH_NGINX", "nginx forwarder (C), no MCP work (2025-11-25)"),
    ]
    for (prefix, label) in forwarders {
        if let url = ProcessInfo.processInfo.environment[prefix + "_URL"] {
            targets.append(Target(label: label, url: url, tool: shardCall, modern: false, pidVariable: prefix + "_PID"))
        }
    }
    targets.append(Target(label: "2025-11-25 (session)", url: gatewayURL, tool: gatewayCall, modern: false, pidVariable: "BENCH_GATEWAY_PID"))
    targets.append(Target(label: "2026-07-28 (stateless)", url: gatewayURL, tool: gatewayCall, modern: true, pidVariable: "BENCH_GATEWAY_PID"))
    // BENCH_ONLY=<label fragment> keeps direct and the targets whose label contains it (profiling one).
    if let only = environment["BENCH_ONLY"] {
        targets = targets.enumerated().filter { $0.offset == 0 || $0.element.label.contains(only) }.map(\.element)
    }
    var measured = Array(repeating: Samples(), count: targets.count)
    // Slow levels: fewer calls (each takes the tool's time), at least two per worker a round.
    let callsPerRound = toolMilliseconds == 0 ? max(concurrency, calls / interleavedRounds) : max(2 * concurrency, calls / (4 * interleavedRounds))
    for _ in 0..<interleavedRounds {
        for (index, target) in targets.enumerated() {
            let batch = try await measureCalls(
                client, url: target.url, tool: target.tool, concurrency: concurrency, calls: callsPerRound, modern: target.modern,
                pidVariable: target.pidVariable)
            measured[index].add(batch)
        }
    }
    let direct = measured[0].stats
    for (index, target) in targets.enumerated().dropFirst() {
        let via = measured[index].stats
        let served = Double(measured[index].latencies.count)
        let cpuPerCall = measured[index].cpuSeconds.map { fmt($0 * 1000 / served) } ?? "-"
        let directShardCPU = measured[0].shardCPUSeconds.map { fmt($0 * 1000 / Double(measured[0].latencies.count)) } ?? "-"
        let shardCPU = measured[index].shardCPUSeconds.map { fmt($0 * 1000 / served) } ?? "-"
        print("| \(level) | \(target.label) | \(fmt(direct.p50)) | \(fmt(direct.p99)) | \(Int(direct.perSecond)) | \(fmt(via.p50)) | \(fmt(via.p99)) | \(Int(via.perSecond)) | \(fmt(via.p50 - direct.p50)) | \(fmt(via.p99 - direct.p99)) | \(cpuPerCall) | \(directShardCPU) | \(shardCPU) |")
    }
}
let rounds = Int(ProcessInfo.processInfo.environment["BENCH_HANDSHAKES"] ?? "") ?? 500
let handshake = try await measureHandshake(client, url: gatewayURL, rounds: rounds)
let modernHandshake = try await measureModernHandshake(client, url: gatewayURL, rounds: rounds)
print("")
print("Connect and list, through the gateway, \(rounds) rounds each:")
print("- 2025-11-25: initialize + notifications/initialized + tools/list (a new session each): p50 \(fmt(handshake.p50)) ms, p99 \(fmt(handshake.p99)) ms")
print("- 2026-07-28: server/discover + tools/list (what Open WebUI 0.12 sends per chat message): p50 \(fmt(modernHandshake.p50)) ms, p99 \(fmt(modernHandshake.p99)) ms")
try await client.shutdown().get()
