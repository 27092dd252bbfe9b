import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
@testable import ServiceKit
import Synchronization
import Testing
import TestSupport

/// `HTTP1Client` against a real socket server that answers each request with scripted raw bytes,
/// so keep-alive, chunked bodies, early closes and silence are exactly what a test says they are.
@Suite struct HTTP1ClientTests {
    @Test func reusesOneConnectionForLengthAndChunkedBodies() async throws {
        let server = try await ScriptedHTTPServer.start { request, _ in
            // Echo the request body; every other answer chunked.
            if request.number % 2 == 0 {
                return [.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(request.body.utf8.count)\r\n\r\n\(request.body)")]
            }
            return [
                .write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Request-Host: \(request.header("host") ?? "-")\r\n\r\n"),
                .write("5\r\nhello\r\n"), .pause(.milliseconds(20)), .write("1\r\n \r\n"), .write("\(String(request.body.utf8.count, radix: 16))\r\n\(request.body)\r\n0\r\n\r\n"),
            ]
        }
        defer { server.stop() }
        let client = HTTP1Client(configuration: .init())
        defer { client.closeIdleConnections() }
        for number in 0..<6 {
            // Host and Content-Length are the client's to write, whatever the caller passes.
            let request = HTTP1Request(
                url: "http://127.0.0.1:\(server.port)/echo?n=\(number)", method: .POST, headers: ["HOST": "elsewhere", "content-length": "999"],
                body: ByteBuffer(string: "call \(number)"))!
            let response = try await client.execute(request, timeout: .seconds(5))
            #expect(response.status == .ok)
            let body = String(buffer: try await response.body.collect(upTo: 1024))
            if number % 2 == 0 {
                #expect(body == "call \(number)")
            } else {
                #expect(body == "hello call \(number)")
                #expect(response.headers.first(name: "X-Request-Host") == "127.0.0.1:\(server.port)")
            }
        }
        #expect(server.connectionsAccepted == 1)
        #expect(server.requests.map(\.target) == (0..<6).map { "/echo?n=\($0)" })
        #expect(server.requests.allSatisfy { $0.method == "POST" })
        #expect(server.requests.allSatisfy { request in request.headers.filter { $0.0.lowercased() == "host" }.count == 1 })
    }

    @Test func aClosedConnectionIsNeverReused() async throws {
        // Request 0: `Connection: close`. Request 1: the server hangs up right after answering
        // (keep-alive said yes). Request 2 must still get through, on a third connection.
        let server = try await ScriptedHTTPServer.start { request, _ in
            switch request.number {
            case 0: [.write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"), .close]
            case 1: [.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), .pause(.milliseconds(5)), .close]
            default: [.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")]
            }
        }
        defer { server.stop() }
        let client = HTTP1Client(configuration: .init())
        defer { client.closeIdleConnections() }
        for number in 0..<3 {
            let response = try await client.execute(HTTP1Request(url: "http://127.0.0.1:\(server.port)/n\(number)")!)
            #expect(String(buffer: try await response.body.collect(upTo: 16)) == "ok")
            // Until the client has seen the server's close, the pooled connection looks usable: a
            // request sent in that moment fails, as with any HTTP client (a POST is not retried).
            if number == 1 { #expect(await eventually(within: .seconds(5)) { client.idleConnectionCount == 0 }) }
        }
        #expect(server.connectionsAccepted == 3)
    }

    @Test func idleConnectionsCloseAfterTheIdleTimeout() async throws {
        let server = try await ScriptedHTTPServer.start { _, _ in [.write("HTTP/1.1 204 No Content\r\n\r\n")] }
        defer { server.stop() }
        var configuration = HTTP1Client.Configuration()
        configuration.idleTimeout = .milliseconds(100)
        let client = HTTP1Client(configuration: configuration)
        let response = try await client.execute(HTTP1Request(url: "http://127.0.0.1:\(server.port)/")!)
        #expect(response.status == .noContent)
        _ = try await response.body.collect(upTo: 0)
        #expect(await eventually(within: .seconds(5)) { server.connectionsClosed == 1 })
        // And the next request simply opens a new one.
        _ = try await client.execute(HTTP1Request(url: "http://127.0.0.1:\(server.port)/")!).body.collect(upTo: 0)
        #expect(server.connectionsAccepted == 2)
    }

    @Test func silenceOversizeAndBrokenBodiesAreClearErrors() async throws {
        let server = try await ScriptedHTTPServer.start { request, _ in
            switch request.target {
            case "/silent": [.pause(.seconds(30))]
            case "/big": [.write("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + String(repeating: "x", count: 5000))]
            case "/broken": [.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this"), .close]
            case "/garbage": [.write("SMTP ready\r\n\r\n"), .pause(.seconds(30))]
            default: [.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")]
            }
        }
        defer { server.stop() }
        let client = HTTP1Client(configuration: .init())
        defer { client.closeIdleConnections() }
        let base = "http://127.0.0.1:\(server.port)"

        let clock = ContinuousClock()
        let started = clock.now
        await #expect(throws: HTTP1ClientError.timeout(.milliseconds(200))) {
            _ = try await client.execute(HTTP1Request(url: base + "/silent")!, timeout: .milliseconds(200))
        }
        #expect(clock.now - started < .seconds(5))

        let big = try await client.execute(HTTP1Request(url: base + "/big")!, maxResponseBytes: 1000)
        await #expect(throws: HTTP1ClientError.responseTooLarge(limit: 1000)) { _ = try await big.body.collect(upTo: 10_000) }

        let broken = try await client.execute(HTTP1Request(url: base + "/broken")!)
        await #expect(throws: HTTP1ClientError.connectionClosed) { _ = try await broken.body.collect(upTo: 10_000) }

        let garbage = await #expect(throws: HTTP1ClientError.self) { _ = try await client.execute(HTTP1Request(url: base + "/garbage")!, timeout: .seconds(5)) }
        #expect("\(garbage!)".contains("invalid HTTP response"))

        // Each failure cost its connection; the client still works.
        let fine = try await client.execute(HTTP1Request(url: base + "/fine")!)
        #expect(String(buffer: try await fine.body.collect(upTo: 16)) == "ok")

        try await ClosedPort.with { closedPort in
            let refused = await #expect(throws: HTTP1ClientError.self) { _ = try await client.execute(HTTP1Request(url: "http://127.0.0.1:\(closedPort)/")!) }
            #expect("\(refused!)".contains("cannot connect to 127.0.0.1:\(closedPort)"))
        }
    }

    @Test func aWholeResponseTimeoutCoversTheBodyToo() async throws {
        let server = try await ScriptedHTTPServer.start { request, _ in
            request.target == "/stall"
                ? [.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n: ping\n\n\r\n"), .pause(.seconds(30))]
                : [.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")]
        }
        defer { server.stop() }
        let client = HTTP1Client(configuration: .init())
        defer { client.closeIdleConnections() }
        let base = "http://127.0.0.1:\(server.port)"

        // An answer that ends in time: its connection is reused, and the timer never fires later.
        for _ in 0..<2 {
            let fast = try await client.execute(HTTP1Request(url: base + "/fast")!, wholeResponseTimeout: .milliseconds(150))
            #expect(String(buffer: try await fast.body.collect(upTo: 16)) == "ok")
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(server.connectionsAccepted == 1 && server.connectionsClosed == 0)

        // The head arrives, the body stalls: the body fails with the timeout.
        let clock = ContinuousClock()
        let started = clock.now
        let stalled = try await client.execute(HTTP1Request(url: base + "/stall")!, timeout: .seconds(30), wholeResponseTimeout: .milliseconds(200))
        await #expect(throws: HTTP1ClientError.timeout(.milliseconds(200))) { _ = try await stalled.body.collect(upTo: 1000) }
        #expect(clock.now - started < .seconds(5))
        #expect(await eventually(within: .seconds(5)) { server.connectionsClosed == 1 })
    }

    @Test func cancellingTheCallerClosesItsConnection() async throws {
        let server = try await ScriptedHTTPServer.start { request, _ in
            request.target == "/slow"
                ? [.pause(.seconds(30))]
                : [.write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n: ping\n\n\r\n"), .pause(.seconds(30))]
        }
        defer { server.stop() }
        let client = HTTP1Client(configuration: .init())
        // Waiting for the head.
        let call = Task { try await client.execute(HTTP1Request(url: "http://127.0.0.1:\(server.port)/slow")!, timeout: .seconds(30)) }
        #expect(await eventually(within: .seconds(5)) { server.requests.count == 1 })
        call.cancel()
        await #expect(throws: CancellationError.self) { _ = try await call.value }
        #expect(await eventually(within: .seconds(5)) { server.connectionsClosed == 1 })

        // Reading a body that has not ended (an MCP event stream waiting for its result): the
        // reader gets CancellationError, not a body that looks complete.
        let read = Task {
            let response = try await client.execute(HTTP1Request(url: "http://127.0.0.1:\(server.port)/events")!)
            var chunks = 0
            for try await _ in response.body { chunks += 1 }
            return chunks
        }
        #expect(await eventually(within: .seconds(5)) { server.requests.count == 2 })
        try await Task.sleep(for: .milliseconds(50))
        read.cancel()
        await #expect(throws: CancellationError.self) { _ = try await read.value }
        #expect(await eventually(within: .seconds(5)) { server.connectionsClosed == 2 })
    }

    @Test func abandoningABodyHalfWayClosesItsConnection() async throws {
        let server = try await ScriptedHTTPServer.start { request, _ in
            request.target == "/stream"
                ? [.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n"), .pause(.seconds(30))]
                : [.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")]
        }
        defer { server.stop() }
        let client = HTTP1Client(configuration: .init())
        defer { client.closeIdleConnections() }
        do {
            let response = try await client.execute(HTTP1Request(url: "http://127.0.0.1:\(server.port)/stream")!)
            var iterator = response.body.makeAsyncIterator()
            #expect(try await iterator.next().map { String(buffer: $0) } == "one")
        }  // the rest of the body is dropped unread
        #expect(await eventually(within: .seconds(5)) { server.connectionsClosed == 1 })
        let next = try await client.execute(HTTP1Request(url: "http://127.0.0.1:\(server.port)/next")!)
        #expect(String(buffer: try await next.body.collect(upTo: 16)) == "ok")
        #expect(server.connectionsAccepted == 2)
    }

    // MARK: - The connection limit per host

    @Test func aBurstBeyondTheConnectionLimitWaitsForFreeConnections() async throws {
        let server = try await ScriptedHTTPServer.start { request, _ in
            [.pause(.milliseconds(50)), .write("HTTP/1.1 200 OK\r\nContent-Length: \(request.body.utf8.count)\r\n\r\n\(request.body)")]
        }
        defer { server.stop() }
        var configuration = HTTP1Client.Configuration()
        configuration.maxConnectionsPerHost = 2
        let client = HTTP1Client(configuration: configuration)
        defer { client.closeIdleConnections() }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        // Eight async calls and four from an event loop at once: all answered, on two connections.
        let bodies = try await withThrowingTaskGroup(of: String.self) { group in
            for number in 0..<8 {
                group.addTask {
                    let request = HTTP1Request(url: "http://127.0.0.1:\(server.port)/", method: .POST, body: ByteBuffer(string: "async \(number)"))!
                    return String(buffer: try await client.execute(request, timeout: .seconds(5)).body.collect(upTo: 64))
                }
            }
            for number in 0..<4 {
                let request = HTTP1Request(url: "http://127.0.0.1:\(server.port)/", method: .POST, body: ByteBuffer(string: "loop \(number)"))!
                let pending = client.send(request, on: loop, timeout: .seconds(5))
                group.addTask { String(buffer: try await pending.response.get().body) }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(bodies == Set((0..<8).map { "async \($0)" } + (0..<4).map { "loop \($0)" }))
        #expect(server.connectionsAccepted == 2)
        #expect(client.pool.openCount("127.0.0.1:\(server.port)") == 2)
    }

    @Test func aWaitForAConnectionEndsAtItsTimeoutOrCancellation() async throws {
        let server = try await ScriptedHTTPServer.start { request, _ in
            [.pause(request.target == "/slow" ? .milliseconds(800) : .zero), .write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")]
        }
        defer { server.stop() }
        var configuration = HTTP1Client.Configuration()
        configuration.maxConnectionsPerHost = 1
        let client = HTTP1Client(configuration: configuration)
        defer { client.closeIdleConnections() }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let slow = Task { try await client.execute(HTTP1Request(url: "http://127.0.0.1:\(server.port)/slow")!, timeout: .seconds(5)).body.collect(upTo: 16) }
        #expect(await eventually(within: .seconds(5)) { server.requests.count == 1 })
        // The one connection is busy: these wait, and give up at their timeout or when cancelled.
        await #expect(throws: HTTP1ClientError.timeout(.milliseconds(100))) {
            _ = try await client.execute(HTTP1Request(url: "http://127.0.0.1:\(server.port)/a")!, timeout: .milliseconds(100))
        }
        let timedOut = client.send(HTTP1Request(url: "http://127.0.0.1:\(server.port)/b")!, on: loop, timeout: .milliseconds(100))
        await #expect(throws: HTTP1ClientError.timeout(.milliseconds(100))) { _ = try await timedOut.response.get() }
        let cancelledAsync = Task { try await client.execute(HTTP1Request(url: "http://127.0.0.1:\(server.port)/c")!, timeout: .seconds(5)) }
        let cancelledSend = client.send(HTTP1Request(url: "http://127.0.0.1:\(server.port)/d")!, on: loop, timeout: .seconds(5))
        try await Task.sleep(for: .milliseconds(50))
        cancelledAsync.cancel()
        cancelledSend.cancel()
        await #expect(throws: CancellationError.self) { _ = try await cancelledAsync.value }
        await #expect(throws: CancellationError.self) { _ = try await cancelledSend.response.get() }
        #expect(String(buffer: try await slow.value) == "ok")
        // Nobody is left in the queue: the next call takes the connection, and none of the
        // requests that gave up was ever sent.
        let next = try await client.execute(HTTP1Request(url: "http://127.0.0.1:\(server.port)/next")!, timeout: .seconds(5))
        #expect(String(buffer: try await next.body.collect(upTo: 16)) == "ok")
        #expect(server.requests.map(\.target) == ["/slow", "/next"])
        #expect(server.connectionsAccepted == 1)
    }

    @Test func aClosedConnectionLetsTheNextWaitingRequestConnect() async throws {
        // Every answer closes its connection: each waiting request opens its own once the one
        // before it has closed, never two at once.
        let server = try await ScriptedHTTPServer.start { _, _ in
            [.pause(.milliseconds(20)), .write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"), .close]
        }
        defer { server.stop() }
        var configuration = HTTP1Client.Configuration()
        configuration.maxConnectionsPerHost = 1
        let client = HTTP1Client(configuration: configuration)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let answers = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<3 {
                group.addTask { String(buffer: try await client.execute(HTTP1Request(url: "http://127.0.0.1:\(server.port)/")!, timeout: .seconds(5)).body.collect(upTo: 16)) }
                let pending = client.send(HTTP1Request(url: "http://127.0.0.1:\(server.port)/")!, on: loop, timeout: .seconds(5))
                group.addTask { String(buffer: try await pending.response.get().body) }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(answers == Array(repeating: "ok", count: 6))
        #expect(server.connectionsAccepted == 6)
        #expect(await eventually(within: .seconds(5)) { client.pool.openCount("127.0.0.1:\(server.port)") == 0 })
    }

    @Test func aFailedConnectFreesItsPlace() async throws {
        // Nothing listens on this port: each connect fails, and its place goes to the next request.
        let port = try await ScriptedHTTPServer.start { _, _ in [] }
        let closedPort = port.port
        port.stop()
        try await Task.sleep(for: .milliseconds(50))
        var configuration = HTTP1Client.Configuration()
        configuration.maxConnectionsPerHost = 1
        let client = HTTP1Client(configuration: configuration)
        for _ in 0..<3 {
            await #expect(throws: HTTP1ClientError.self) {
                _ = try await client.execute(HTTP1Request(url: "http://127.0.0.1:\(closedPort)/")!, timeout: .seconds(2))
            }
        }
        #expect(client.pool.openCount("127.0.0.1:\(closedPort)") == 0)
    }

    // MARK: - From an event loop (`send(_:on:)`, the gateway's fast lane)

    @Test func sendFromAnEventLoopCollectsAnswersOnConnectionsOfThatLoop() async throws {
        let server = try await ScriptedHTTPServer.start { request, _ in
            request.number % 2 == 0
                ? [.write("HTTP/1.1 200 OK\r\nContent-Length: \(request.body.utf8.count)\r\n\r\n\(request.body)")]
                : [.write("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-N: \(request.number)\r\n\r\n3\r\none\r\n"), .pause(.milliseconds(10)), .write("3\r\ntwo\r\n0\r\n\r\n")]
        }
        defer { server.stop() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let client = HTTP1Client(eventLoopGroup: group, configuration: .init())
        defer { client.closeIdleConnections() }
        let loops = [group.next(), group.next()]
        #expect(loops[0] !== loops[1])
        for number in 0..<6 {
            let loop = loops[number / 3]  // three calls from each loop
            let request = HTTP1Request(url: "http://127.0.0.1:\(server.port)/n", method: .POST, body: ByteBuffer(string: "call \(number)"))!
            let pending = client.send(request, on: loop, timeout: .seconds(5))
            let response = try await pending.response.get()
            #expect(pending.response.eventLoop === loop)
            if number % 2 == 0 {
                #expect(response.status == .ok && String(buffer: response.body) == "call \(number)")
            } else {
                #expect(response.status == .created && String(buffer: response.body) == "onetwo")
                #expect(response.headers.first(name: "X-N") == "\(number)")
            }
        }
        // One connection per loop, each kept for that loop's calls.
        #expect(server.connectionsAccepted == 2)
        try await group.shutdownGracefully()
    }

    @Test func sendFromAnEventLoopTimesOutAndCancels() async throws {
        let server = try await ScriptedHTTPServer.start { request, _ in
            switch request.target {
            case "/body-stalls": [.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), .pause(.seconds(30))]
            case "/big": [.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + String(repeating: "x", count: 100))]
            default: [.pause(.seconds(30))]
            }
        }
        defer { server.stop() }
        let client = HTTP1Client(configuration: .init())
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        // The timeout covers the whole answer, not just the head.
        let stalled = client.send(HTTP1Request(url: "http://127.0.0.1:\(server.port)/body-stalls")!, on: loop, timeout: .milliseconds(300))
        await #expect(throws: HTTP1ClientError.timeout(.milliseconds(300))) { _ = try await stalled.response.get() }
        let big = client.send(HTTP1Request(url: "http://127.0.0.1:\(server.port)/big")!, on: loop, maxResponseBytes: 50)
        await #expect(throws: HTTP1ClientError.responseTooLarge(limit: 50)) { _ = try await big.response.get() }
        // Cancelled while waiting for the head: fails at once and closes its connection.
        let waiting = client.send(HTTP1Request(url: "http://127.0.0.1:\(server.port)/silent")!, on: loop, timeout: .seconds(30))
        #expect(await eventually(within: .seconds(5)) { server.requests.count == 3 })
        waiting.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiting.response.get() }
        #expect(await eventually(within: .seconds(5)) { server.connectionsClosed == 3 })
        // Cancelled before it could even connect: never sent.
        let early = client.send(HTTP1Request(url: "http://127.0.0.1:\(server.port)/never")!, on: loop)
        early.cancel()
        await #expect(throws: CancellationError.self) { _ = try await early.response.get() }
        try await Task.sleep(for: .milliseconds(100))
        #expect(!server.requests.contains { $0.target == "/never" })
    }

    @Test func onlyPlainHTTPURLsAreTargets() {
        let target = HTTP1Target(url: "http://shard.local:9110/mcp?x=1#frag")
        #expect(target?.host == "shard.local")
        #expect(target?.port == 9110)
        #expect(target?.path == "/mcp?x=1")
        #expect(HTTP1Target(url: "HTTP://gateway")?.port == 80)
        #expect(HTTP1Target(url: "http://gateway")?.path == "/")
        #expect(HTTP1Target(url: "http://[::1]:8080/a")?.host == "::1")
        #expect(HTTP1Target(url: "http://[::1]:8080/a")?.port == 8080)
        #expect(HTTP1Target(url: "http://gateway?x=1")?.path == "/?x=1")
        #expect(HTTP1Target(url: "http://gateway#top")?.path == "/")
        #expect(HTTP1Target(url: "hTtP://Ollama:11434").map { [$0.host, String($0.port), $0.path] } == ["Ollama", "11434", "/"])
        #expect(HTTP1Target(url: "http://bücher.local/ä?q=ü")?.host == "bücher.local")
        #expect(HTTP1Target(url: "http://bücher.local/ä?q=ü")?.path == "/ä?q=ü")
        for invalid in ["https://shard/mcp", "ftp://x", "http://", "http://user:pw@host/", "http://host:99999/", "http://host:port/", "shard:9110/mcp", "http:/x", "http://[::1/a", "http://[::1]x/"] {
            #expect(HTTP1Target(url: invalid) == nil, "\(invalid)")
        }
    }
}
