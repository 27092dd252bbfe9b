import Foundation
import Logging
import MCP
import ServiceKit
import ServiceLifecycle

/// MCP 2026-07-28 (stateless) on the same URL as the 2025-11-25 sessions.
///
/// The Swift SDK 0.12.1 speaks only the session era, so this revision is ours, kept in this one
/// file: every POST carries its version in `MCP-Protocol-Version` and in `params._meta`, there is no
/// `initialize` and no session, `server/discover` describes the server, and the `Mcp-Method` /
/// `Mcp-Name` headers must mirror the body. Results are encoded with the SDK's types and given the
/// modern fields (`resultType`, cache hints).
struct ModernMCP: Sendable {
    static let versions: Set<String> = ["2026-07-28"]
    static let metaVersionKey = "io.modelcontextprotocol/protocolVersion"

    /// Error codes introduced by 2026-07-28.
    enum Code {
        static let headerMismatch = -32020
        static let unsupportedVersion = -32022
    }

    struct Reply: Sendable {
        let status: Int
        let body: Data?
        /// For a call that asked for progress, or a `subscriptions/listen`: runs, emitting each
        /// notification, and returns the final response message. Served as an SSE stream scoped to
        /// the request; closing it cancels the work.
        var stream: (@Sendable (_ emit: @escaping @Sendable (Data) -> Void) async -> Data)? = nil
        /// A stream that may stay quiet for long (a listen stream): it gets keep-alive comments.
        var longLived = false

        init(status: Int, body: Data?, longLived: Bool = false, stream: (@Sendable (_ emit: @escaping @Sendable (Data) -> Void) async -> Data)? = nil) {
            self.status = status
            self.body = body
            self.longLived = longLived
            self.stream = stream
        }
    }

    let catalog: Catalog
    let profile: String
    let instructions: String
    let listeners: ListenStreams
    let logger: Logger
    /// The `server/discover` result, which never changes: encoded once.
    let encodedDiscover: Data

    init(catalog: Catalog, profile: String, instructions: String, listeners: ListenStreams, logger: Logger) {
        self.catalog = catalog
        self.profile = profile
        self.instructions = instructions
        self.listeners = listeners
        self.logger = logger
        self.encodedDiscover = (try? Self.discover(instructions: instructions).encoded()) ?? Data("{}".utf8)
    }

    /// True when the request belongs to the stateless era: a modern version in the header, or a
    /// `_meta` version and no session (a session-era client never sends `_meta` versions).
    static func isModern(headers: [String: String], body: Data?) -> Bool {
        if let version = header(headers, "MCP-Protocol-Version"), versions.contains(version) { return true }
        if header(headers, "Mcp-Session-Id") != nil { return false }
        guard let body, let meta = (try? JSONValue.parse(body))?["params"]?["_meta"]?.objectValue else { return false }
        return meta[metaVersionKey] != nil
    }

    /// A request that passed the era's checks (version, header mirrors), parsed once.
    struct ValidatedRequest {
        let id: JSONValue
        /// The id as the client wrote it, to go back unchanged.
        let idJSON: Data
        let method: String
        let params: [String: JSONValue]
        let meta: [String: JSONValue]
    }

    enum Validation {
        /// Answered already: an error, or a notification's 202.
        case reply(Reply)
        case request(ValidatedRequest)
    }

    /// The checks every request of this era passes before its method runs; shared by `handle` and
    /// the event-loop fast lane (`FastToolCalls`), so both reject the same requests the same way.
    static func validate(headers: [String: String], body: Data) -> Validation {
        // `JSONValueParser`, not `JSONSerialization`: Foundation's objects and the casts to read
        // them were the largest part of the gateway's own CPU per call (perf).
        let parsed: JSONValue
        do { parsed = try JSONValue.parse(body) } catch {
            return .reply(Self.failure(id: nil, status: 400, code: -32700, "Parse error: \(error)"))
        }
        guard case .object(let object) = parsed else {
            let what = if case .array = parsed { "batches are not part of 2026-07-28; send one JSON-RPC object per request" } else { "the body must be a JSON-RPC object" }
            return .reply(Self.failure(id: nil, status: 400, code: -32600, "Invalid Request: \(what)"))
        }
        let id = object["id"]
        guard let method = object["method"]?.stringValue else {
            return .reply(Self.failure(id: id, status: 400, code: -32600, "Invalid Request: no method"))
        }
        guard let id else { return .reply(Reply(status: 202, body: nil)) }  // a notification: nothing to answer
        guard id.isRequestID else {
            return .reply(Self.failure(id: nil, status: 400, code: -32600, "Invalid Request: the id must be a string or an integer"))
        }
        // The id goes back as the client wrote it.
        let idJSON = RawJSON.member("id", in: body) ?? Self.encodeID(id)
        let params = object["params"]?.objectValue ?? [:]
        let meta = params["_meta"]?.objectValue ?? [:]
        let headerVersion = Self.header(headers, "MCP-Protocol-Version")
        let bodyVersion = meta[Self.metaVersionKey]?.stringValue

        guard let version = bodyVersion ?? headerVersion else {
            return .reply(Self.failure(id: id, status: 400, code: Code.headerMismatch, "Header mismatch: MCP-Protocol-Version and params._meta[\"\(Self.metaVersionKey)\"] are both required"))
        }
        guard Self.versions.contains(version) else {
            return .reply(Self.failure(id: id, status: 400, code: Code.unsupportedVersion, "Unsupported protocol version: \(version)",
                                  data: ["supported": .array(Self.supportedVersions.map(JSONValue.string)), "requested": .string(version)]))
        }
        guard headerVersion == bodyVersion else {
            return .reply(Self.failure(id: id, status: 400, code: Code.headerMismatch, "Header mismatch: MCP-Protocol-Version is '\(headerVersion ?? "absent")' but params._meta says '\(bodyVersion ?? "absent")'"))
        }
        if let headerMethod = Self.header(headers, "Mcp-Method"), headerMethod != method {
            return .reply(Self.failure(id: id, status: 400, code: Code.headerMismatch, "Header mismatch: Mcp-Method is '\(headerMethod)' but the body's method is '\(method)'"))
        }
        if let nameField = Self.nameField[method] {
            let bodyName = params[nameField]?.stringValue
            guard let headerName = Self.header(headers, "Mcp-Name").map(Self.decodeHeaderValue), headerName == bodyName else {
                return .reply(Self.failure(id: id, status: 400, code: Code.headerMismatch, "Header mismatch: Mcp-Name must equal params.\(nameField) for \(method)"))
            }
        }
        return .request(ValidatedRequest(id: id, idJSON: idJSON, method: method, params: params, meta: meta))
    }

    func handle(headers: [String: String], body: Data) async -> Reply {
        let request: ValidatedRequest
        switch Self.validate(headers: headers, body: body) {
        case .reply(let reply): return reply
        case .request(let validated): request = validated
        }
        let (id, idJSON, method, params, meta) = (request.id, request.idJSON, request.method, request.params, request.meta)
        do {
            switch method {
            case "server/discover":
                return Self.reply(idJSON: idJSON, encodedResult: encodedDiscover)
            case "ping":
                return Self.reply(idJSON: idJSON, encodedResult: Data("{}".utf8))
            case "tools/list":
                return Self.reply(idJSON: idJSON, encodedResult: catalog.snapshot(for: profile).encodedLists.tools, cacheable: true)
            case "prompts/list":
                return Self.reply(idJSON: idJSON, encodedResult: catalog.snapshot(for: profile).encodedLists.prompts, cacheable: true)
            case "resources/list":
                return Self.reply(idJSON: idJSON, encodedResult: catalog.snapshot(for: profile).encodedLists.resources, cacheable: true)
            case "tools/call":
                let call = try ToolCall(params, body: body)
                CallerIdentity.log(MCP.HTTPRequest(method: "POST", headers: headers), tool: call.name, logger: logger)
                if let token = Self.progressToken(meta["progressToken"]) {
                    return progressCall(idJSON: idJSON, call: call, clientToken: token)
                }
                let outcome = try await catalog.call(call.name, arguments: call.arguments, meta: nil, profile: profile)
                return Self.reply(idJSON: idJSON, encodedResult: outcome.json)
            case "prompts/get":
                let get = try decode(GetPrompt.Parameters.self, from: params)
                return Self.reply(idJSON: idJSON, encodedResult: try Self.encoder.encode(try await catalog.getPrompt(get.name, arguments: get.arguments, profile: profile)))
            case "subscriptions/listen":
                return try listen(idJSON: idJSON, id: id, params: params, headers: headers)
            case "resources/read":
                let read = try decode(ReadResource.Parameters.self, from: params)
                return Self.reply(idJSON: idJSON, encodedResult: try Self.encoder.encode(try await catalog.readResource(read.uri, profile: profile)))
            default:
                return Self.failure(id: id, status: 404, code: -32601, "Method not found: \(method)")
            }
        } catch {
            return Self.errorReply(id: id, method: method, error)
        }
    }

    /// The JSON-RPC error for a method that threw.
    static func errorReply(id: JSONValue?, method: String, _ error: any Error) -> Reply {
        switch error {
        case let mcpError as MCPError:
            Self.failure(id: id, status: 200, code: mcpError.code, mcpError.errorDescription ?? "\(mcpError)")
        case is DecodingError:
            Self.failure(id: id, status: 200, code: -32602, "Invalid params for \(method)")
        default:
            Self.failure(id: id, status: 200, code: -32603, "Internal error: \(error.plainDescription)")
        }
    }

    static let subscriptionIDKey = "io.modelcontextprotocol/subscriptionId"

    /// A `subscriptions/listen` stream: the acknowledgment of the kinds of change it will carry,
    /// then a `notifications/<kind>/list_changed` whenever this profile's catalog changes, each
    /// stamped with the listen request's id; the final response only when the gateway shuts down
    /// (a client that hangs up just ends it).
    private func listen(idJSON: Data, id: JSONValue, params: [String: JSONValue], headers: [String: String]) throws -> Reply {
        guard Self.header(headers, "Accept")?.contains("text/event-stream") == true else {
            return Self.failure(id: id, status: 406, code: -32600, "Not Acceptable: subscriptions/listen answers with an event stream; send Accept: text/event-stream")
        }
        guard let filter = params["notifications"]?.objectValue else {
            throw MCPError.invalidParams("subscriptions/listen needs params.notifications, an object of the changes to receive")
        }
        // Resource subscriptions are not offered (resources.subscribe is false): never acknowledged.
        let kinds = Set(ListKind.allCases.filter { filter[$0.filterKey]?.boolValue == true })
        guard let (listenID, changes) = listeners.open(profile: profile, kinds: kinds) else {
            return Self.failure(id: id, status: 200, code: -32603, "Subscription limit reached (\(listeners.limit) open listen streams); try again later")
        }
        let meta = "{\"\(Self.subscriptionIDKey)\":" + String(decoding: idJSON, as: UTF8.self) + "}"
        let honored = ListKind.allCases.filter(kinds.contains).map { "\"\($0.filterKey)\":true" }.joined(separator: ",")
        let listeners = self.listeners
        return Reply(status: 200, body: nil, longLived: true) { emit in
            defer { listeners.close(listenID) }
            let acknowledgment = #"{"jsonrpc":"2.0","method":"notifications/subscriptions/acknowledged","params":{"notifications":{"#
                + honored + #"},"_meta":"# + meta + "}}"
            emit(Data(acknowledgment.utf8))
            for await kind in changes.cancelOnGracefulShutdown() {
                emit(Data((#"{"jsonrpc":"2.0","method":""# + kind.notification + #"","params":{"_meta":"# + meta + "}}").utf8))
            }
            return Self.reply(idJSON: idJSON, encodedResult: Data("{\"_meta\":".utf8) + Data(meta.utf8) + Data("}".utf8)).body ?? Data()
        }
    }

    /// A call whose progress flows back on the request's own SSE stream.
    private func progressCall(idJSON: Data, call: ToolCall, clientToken: ProgressToken) -> Reply {
        Reply(status: 200, body: nil) { emit in
            let id = try? JSONValue.parse(idJSON)
            let relayToken = catalog.progressRelay.register(original: clientToken) { progress in
                if let data = try? JSONEncoder().encode(ProgressNotification.message(progress)) { emit(data) }
            }
            defer { catalog.progressRelay.unregister(relayToken) }
            do {
                let outcome = try await catalog.call(
                    call.name, arguments: call.arguments, meta: Metadata(progressToken: relayToken), profile: profile)
                return Self.reply(idJSON: idJSON, encodedResult: outcome.json).body ?? Data()
            } catch let mcpError as MCPError {
                return Self.failure(id: id, status: 200, code: mcpError.code, mcpError.errorDescription ?? "\(mcpError)").body ?? Data()
            } catch {
                return Self.failure(id: id, status: 200, code: -32603, "Internal error: \(error.plainDescription)").body ?? Data()
            }
        }
    }

    /// A `tools/call`'s name and arguments, read from the parsed params; the arguments stay JSON
    /// bytes all the way to the shard (see `ShardToolResult`).
    struct ToolCall: Sendable {
        let name: String
        let arguments: Data?

        /// `params` is `body` parsed.
        init(_ params: [String: JSONValue], body: Data) throws {
            guard let name = params["name"]?.stringValue else { throw MCPError.invalidParams("tools/call needs params.name, a string") }
            self.name = name
            switch params["arguments"] {
            case .object(let object)?:
                arguments = RawJSON.member("params", "arguments", in: body) ?? JSONValue.object(object).encoded()
            case nil, .null?:
                arguments = nil
            default:
                throw MCPError.invalidParams("tools/call params.arguments must be an object")
            }
        }
    }

    static func progressToken(_ value: JSONValue?) -> ProgressToken? {
        switch value {
        case .string(let text)?: .string(text)
        case .number(let number)?: Int(exactly: number).map(ProgressToken.integer)
        default: nil
        }
    }

    static let supportedVersions = ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"]
    static let nameField = ["tools/call": "name", "prompts/get": "name", "resources/read": "uri"]

    private static func discover(instructions: String) throws -> JSONValue {
        // Changes reach stateless clients through subscriptions/listen.
        let capabilities = Server.Capabilities(
            prompts: .init(listChanged: true), resources: .init(subscribe: false, listChanged: true),
            tools: .init(listChanged: true))
        return [
            "supportedVersions": .array(Self.supportedVersions.map(JSONValue.string)),
            "capabilities": try JSONValue.parse(JSONEncoder().encode(capabilities)),
            "instructions": .string(instructions),
            "_meta": ["io.modelcontextprotocol/serverInfo": ["name": "homelab-mcp-gateway", "version": .string(SuiteVersion.current)]],
        ]
    }

    /// `{"jsonrpc":"2.0","id":…,"result":…}` around a result that is already JSON, with the
    /// modern fields spliced in: no decode and re-encode of what may be a large tool list or
    /// tool output (JSON objects do not care where a member is, so the fields go first).
    static func reply(idJSON: Data, encodedResult: Data, cacheable: Bool = false) -> Reply {
        var body = Data(#"{"jsonrpc":"2.0","id":"#.utf8)
        body.append(idJSON)
        body.append(Data(#","result":{"resultType":"complete""#.utf8))
        // Profiles see different lists, and shards come and go: no client-side caching.
        if cacheable { body.append(Data(#","ttlMs":0,"cacheScope":"private""#.utf8)) }
        let members = encodedResult.drop { $0 != UInt8(ascii: "{") }.dropFirst()  // after the opening brace
        if members.first(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) != UInt8(ascii: "}") {
            body.append(UInt8(ascii: ","))
        }
        body.append(contentsOf: members)
        body.append(UInt8(ascii: "}"))
        return Reply(status: 200, body: body)
    }

    static func encodeID(_ id: JSONValue?) -> Data {
        (id ?? .null).encoded()
    }

    /// Results of the SDK's types (prompts, resources), encoded as the SDK server encodes them.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    private func decode<T: Decodable>(_ type: T.Type, from params: [String: JSONValue]) throws -> T {
        var clean = params
        clean["_meta"] = nil
        return try JSONDecoder().decode(T.self, from: JSONValue.object(clean).encoded())
    }

    static func failure(id: JSONValue?, status: Int, code: Int, _ message: String, data: [String: JSONValue]? = nil) -> Reply {
        var error: [String: JSONValue] = ["code": .int(code), "message": .string(message)]
        if let data { error["data"] = .object(data) }
        let envelope: JSONValue = ["jsonrpc": "2.0", "id": id ?? .null, "error": .object(error)]
        return Reply(status: status, body: envelope.encoded())
    }

    static func header(_ headers: [String: String], _ name: String) -> String? {
        let lower = name.lowercased()
        // Names from Hummingbird's fields are already lower case: a lookup, not a scan.
        if let value = headers[lower] { return value }
        return headers.first { $0.key.lowercased() == lower }?.value
    }

    /// `=?base64?...?=` carries non-ASCII names in `Mcp-Name`.
    static func decodeHeaderValue(_ value: String) -> String {
        guard value.hasPrefix("=?base64?"), value.hasSuffix("?="),
              let data = Data(base64Encoded: String(value.dropFirst(9).dropLast(2))) else { return value }
        return String(decoding: data, as: UTF8.self)
    }
}
