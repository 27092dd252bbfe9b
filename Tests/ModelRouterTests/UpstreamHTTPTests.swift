import AsyncHTTPClient
import NIOCore
import ServiceKit
import Testing
import TestSupport

@testable import ModelRouter

/// Provider calls behave the same whichever client carries them: `HTTP1Client` for plain-http
/// providers, AsyncHTTPClient for https ones (forced here with `plainClient: nil`).
@Suite struct UpstreamHTTPTests {
    @Test(arguments: [true, false]) func bothClientsReadBodiesStreamsAndErrorsAlike(plain: Bool) async throws {
        let server = try await ScriptedHTTPServer.start { request, _ in
            switch request.target {
            case "/json":
                let body = #"{"model":"m","echo":\#(request.body)}"#
                return [.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")]
            case "/limited":
                let body = #"{"error":{"message":"slow down","type":"rate_limit"}}"#
                return [.write("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")]
            case "/stream":
                let first = "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"
                let second = "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"
                return [
                    .write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"),
                    .write("\(String(first.utf8.count, radix: 16))\r\n\(first)\r\n"), .pause(.milliseconds(30)),
                    .write("\(String(second.utf8.count, radix: 16))\r\n\(second)\r\n0\r\n\r\n"),
                ]
            default:
                return [.pause(.seconds(30))]
            }
        }
        defer { server.stop() }
        let http = UpstreamHTTP(client: .shared, plainClient: plain ? HTTP1Client(configuration: .init()) : nil)
        let base = "http://127.0.0.1:\(server.port)"

        let json = try await UpstreamHTTP.readBody(try await http.post(url: base + "/json", headers: [("x-api-key", "k")], body: ["n": 1], timeout: 5))
        #expect(json["echo"]?["n"]?.intValue == 1)
        #expect(server.requests.first?.header("content-type") == "application/json")
        #expect(server.requests.first?.header("x-api-key") == "k")

        await #expect {
            _ = try await http.post(url: base + "/limited", headers: [], body: [:], timeout: 5)
        } throws: { error in
            guard case UpstreamError.status(429, let retryAfter, let message) = error else { return false }
            return retryAfter == 2 && message == "slow down"
        }

        let stream = ChatEventStream(response: try await http.post(url: base + "/stream", headers: [], body: [:], timeout: 5), decoder: OpenAIAdapter.Decoder())
        var events: [ChatEvent] = []
        while let event = try await stream.next(timeout: 5) { events.append(event) }
        #expect(events.contains(.text("Hel")) && events.contains(.text("lo")) && events.contains(.finish(reason: "stop")))

        await #expect {
            _ = try await http.get(url: base + "/silent", timeout: 0.2)
        } throws: { error in
            guard case UpstreamError.timeout = error else { return false }
            return true
        }
    }
}
